/**
 * Data loading (`sc.data`): CIFAR-10 and Oxford-IIIT Pet readers, seeded augmentations that
 * keep image and mask aligned, a prefetching DataLoader whose decoding and augmentation run in
 * worker threads, and downloads of the official archives.
 *
 * @example
 * const pets = await sc.data.oxfordPets({ split: 'trainval', size: 128 });
 * const T = sc.data.transforms;
 * const loader = new sc.data.DataLoader(pets, { batchSize: 16, shuffle: true, transform: [T.randomHorizontalFlip()] });
 * for await (const { x, y } of loader) { ... } // x [16, 3, 128, 128] float32, y [16, 128, 128] int32
 */
export { cifar10, Cifar10Dataset } from './cifar10.js';
export type { Cifar10Item, Cifar10Options } from './cifar10.js';
export { oxfordPets, OxfordPetsDataset, PET_MASK_CLASSES } from './pets.js';
export type { OxfordPetItem, OxfordPetsOptions } from './pets.js';
export type { Dataset, SkippedFile } from './dataset.js';
export { imageToTensor } from './image.js';
export type { ImageSource, ImageToTensorOptions } from './image.js';
export { DataLoader } from './loader.js';
export type { Batch, DataLoaderOptions, LoaderItem } from './loader.js';
export * as transforms from './transforms.js';
export type { Transform, TransformList } from './transforms.js';
export { download, OFFICIAL_ARCHIVES } from './download.js';
export type { DownloadOptions, DownloadProgress } from './download.js';
export { resolveDataDir, DatasetNotFoundError } from './paths.js';
export type { DataDir } from './paths.js';
export { defaultCacheDir } from './cache.js';
