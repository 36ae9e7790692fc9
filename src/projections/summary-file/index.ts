export { ChartRenderFailedError } from './chart/render-chart.js';
export {
  type FileUploadClient,
  type TextFileUpload,
  type UploadFile,
  uploadFiles,
  uploadTextFile,
} from './file-upload.js';
export { type PostSummaryFile, type SummaryFileRequest, summaryFilePoster } from './post-summary-file.js';
export { SummaryUploadFailedError } from './summary-file-errors.js';
export {
  createSummaryFilePublisher,
  type SummaryFileOutcome,
  type SummaryFilePublisher,
  type SummaryFilePublisherOptions,
  type SummaryFileSlackClient,
} from './summary-file-publisher.js';
export { type SummaryFileRecord, type SummaryFileState, SummaryFileStore } from './summary-file-store.js';
export { type ChartRenderer, summaryFileName, summaryFiles } from './summary-files.js';
