/**
 * The wire layer shared by the SDK and the node: protocol ids, limits, error codes, message
 * codecs (validated before use) and the multiplexed invoke stream. Pure: no node state.
 */
export * from './ids.js'
export * from './limits.js'
export * from './errors.js'
export * from './codec.js'
export { FrameReader, FrameWriter, writerFor, writeMessage, writeFrame } from './frames.js'
export type { InvokeMessage, FrameHandlers } from './frames.js'
export { InboundCallOptions, InvokeChannel, serveInvokeStream } from './invoke.js'
export { Cancellation, isAborted, onAbort, throwIfAborted, withTimeout } from './cancellation.js'
export type { InvokeRequest, InvokeHandler, InvokeCallOptions } from './invoke.js'
export { CtlRequest, CtlResponse, InvokeFrame, ProcessInfo, ProcessStatus, PeerInfo, PushedResult, ErrorInfo, ErrorCode as WireErrorCode } from './pb/messages.js'
export { CtlChannels, serveCtlStream } from './ctl.js'
export type { CtlCallOptions, CtlHandler } from './ctl.js'
export { InvokeChannels } from './channels.js'
export type { DialTarget, StreamOpener } from './channels.js'
export { praasYamux } from './patches/muxer.js'
export { SingleFlight } from './single-flight.js'
export * from './state-codec.js'
export { MAX_FORWARDED_RESULT_BYTES, encodePushedResult, readPushedResults } from './results.js'
