import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/cli/index.js', import.meta.url));

function sepconv(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sepconv summary', () => {
  it('is the package bin, with a node shebang', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ sepconv: 'dist/cli/index.js' });
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('prints the table of a model', () => {
    const r = sepconv('summary', '--model', 'segnet', '--conv', 'dsc', '--input', '3x128x128');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^SegNet\s+\[1, 3, 128, 128\]\s+1,749,671\s+1,077,657,600$/m);
    expect(r.stdout).toMatch(/^│ ├─enc\.0\.0 \(SeparableConv2d\)\s+\[1, 64, 128, 128\]\s+219\s+3,588,096$/m);
    expect(r.stdout).toContain('Total params: 1,749,671\n');
    expect(r.stdout).toContain('Total mult-adds (G): 1.08\n');
  });

  it('takes the batch, class count, depth and model-specific options', () => {
    const r = sepconv('summary', '--model', 'segnet', '--num-classes', '2', '--batch', '4', '--input', '1x64x64', '--depth', '1');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^SegNet\s+\[4, 2, 64, 64\]/m);
    expect(r.stdout).toMatch(/^├─input_bn \(BatchNorm2d\)\s+\[4, 1, 64, 64\]\s+2\s/m);
    expect(r.stdout).not.toContain('enc.0.0');
    expect(sepconv('summary', '--model', 'mobilenet', '--width-multiplier', '0.25', '--input', '2x3x32x32').stdout).toMatch(/^MobileNet\s+\[2, 10\]/m);
    const unet = sepconv('summary', '--model', 'unet', '--decoder', 'upsample', '--base-width', '8', '--conv', 'dsc', '--input', '1x64x64');
    expect(unet.code).toBe(0);
    expect(unet.stdout).toMatch(/^UNet\s+\[1, 3, 64, 64\]/m);
    expect(unet.stdout).toMatch(/^│ ├─up\.0\.0 \(Upsample\)\s+\[1, 128, 8, 8\]/m);
  });

  it('--compare puts regular and DSC side by side with ratios', () => {
    const r = sepconv('summary', '--model', 'vgg', '--compare');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/features\.12 \(Conv2d → SeparableConv2d\)\s+\[1, 256, 8, 8\]\s+590,080\s+68,096\s+0\.115/);
    expect(r.stdout).toContain('Total params: 1,186,378 (regular) vs 174,821 (dsc), dsc/regular = 0.147');
    expect(r.stdout).toContain('Total mult-adds: 152,805,376 (regular) vs 18,295,808 (dsc), dsc/regular = 0.120');
  });

  it('--json prints the figures', () => {
    const r = sepconv('summary', '--model', 'vgg', '--conv', 'dsc', '--json');
    const figures = JSON.parse(r.stdout) as { totalParams: number; multAdds: number; layers: unknown[]; text?: string };
    expect(figures.totalParams).toBe(174_821);
    expect(figures.multAdds).toBe(18_295_808);
    expect(figures.text).toBeUndefined();
    const both = JSON.parse(sepconv('summary', '--model', 'segnet', '--compare', '--json').stdout) as Record<string, { totalParams: number }>;
    expect([both.regular!.totalParams, both.dsc!.totalParams]).toEqual([15_274_892, 1_749_671]);
  });

  it('exits 2 on bad usage, listing what is accepted', () => {
    const unknown = sepconv('summary', '--model', 'vgg', '--frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain("sepconv summary: Unknown option '--frobnicate'");
    expect(unknown.stderr).toContain("'sepconv summary' accepts: --model <value>, --conv <value>, --compare, --input <value>");
    expect(unknown.stderr).toContain("Run 'sepconv summary --help' for usage.");
    const cases: [string[], string][] = [
      [['summary', '--model', 'resnet'], "--model 'resnet' is not one of: vgg, segnet, unet, mobilenet"],
      [['summary', '--model', 'vgg', '--conv', 'fused'], "--conv 'fused' is not one of: regular, dsc"],
      [['summary'], '--model is required (one of: vgg, segnet, unet, mobilenet)'],
      [['summary', '--model', 'vgg', '--input', '3x32'], "--input expects CxHxW or NxCxHxW but received '3x32'"],
      [['summary', '--model', 'vgg', '--input', '3by32'], "--input expects sizes like 3x128x128 but received '3by32'"],
      [['summary', '--model', 'vgg', '--batch', '0'], "--batch expects a positive integer but received '0'"],
      [['summary', '--model', 'vgg', '--decoder', 'upsample'], '--decoder applies to --model unet only'],
      [['summary', '--model', 'vgg', '--compare', '--conv', 'dsc'], '--compare shows both conv kinds; drop --conv'],
      [['summary', '--model', 'vgg', 'extra'], "Unexpected argument 'extra'"],
      [['frobnicate'], "sepconv: unknown command 'frobnicate'; commands: summary, train, compare, eval, predict"],
    ];
    for (const [args, message] of cases) {
      const r = sepconv(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(message);
    }
  });

  it('exits 2 (bad usage) when the model rejects the input, with the error naming the layer and shapes', () => {
    const r = sepconv('summary', '--model', 'segnet', '--input', '3x100x100');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sepconv summary: SegNet: expected H and W divisible by 16 (4 max-pool stages) for input but received shape [1, 3, 100, 100] (the pool after enc.2 would get [1, 256, 25, 25])\n' +
        "Run 'sepconv summary --help' for usage.\n",
    );
  });

  it('prints help', () => {
    const top = sepconv('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^ {2}summary {3}layer table of a model/m);
    expect(sepconv().code).toBe(2);
    const help = sepconv('summary', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: sepconv summary --model <vgg|segnet|unet|mobilenet> [options]');
    expect(sepconv('--version').stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
