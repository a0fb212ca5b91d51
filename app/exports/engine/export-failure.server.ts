/** A failure whose message is fit to show the person who asked for the export. */
export class ExportFailure extends Error {}
