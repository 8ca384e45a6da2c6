import type { DatasetFormat, DatasetSpec } from '../../experiments/schema.ts';
import type { Listing } from '../candidate.ts';
import { listClassFolders } from './class-folders.ts';
import { listImagefolder } from './imagefolder.ts';
import { listKvasirVqa } from './kvasir-vqa.ts';
import { listMedvqaGi2024 } from './medvqa-gi-2024.ts';

export type Adapter = (spec: DatasetSpec, signal?: AbortSignal) => Promise<Listing>;

export const adapters: Record<DatasetFormat, Adapter> = {
  'class-folders': listClassFolders,
  'medvqa-gi-2024': listMedvqaGi2024,
  'kvasir-vqa': listKvasirVqa,
  imagefolder: listImagefolder,
};
