/** The VM description JSON QEMU appends to a stream (migration/vmstate.c's vmsd_desc_* writers). */
export interface VmdescField {
  name: string;
  array_len?: number;
  index?: number;
  type: string;
  struct?: VmdescVMSD;
  /** VMSTATE_WITH_TMP ("tmp") entries carry the temporary's description inline, before size. */
  vmsd_name?: string;
  version?: number;
  fields?: VmdescField[];
  subsections?: VmdescVMSD[];
  size: number;
}

export interface VmdescVMSD {
  vmsd_name: string;
  version: number;
  fields: VmdescField[];
  subsections?: VmdescVMSD[];
}
