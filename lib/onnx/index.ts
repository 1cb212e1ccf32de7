/**
 * `sc.onnx`: models out of sepconv as ONNX files (onnxruntime on phones, in browsers, in
 * other languages). `sc.onnx.export(model, { inputShape, path })`.
 */
export { exportOnnx as export, DEFAULT_OPSET } from './export.js';
export type { OnnxExportOptions, OnnxExportResult } from './export.js';
export type { ValueInfo, ElementType } from './proto.js';
