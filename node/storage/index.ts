/**
 * What a node keeps on its own disk: swap images of the processes it hosted (content-addressed
 * chunks, so a peer can verify each one it receives) and the replicas it holds of processes
 * hosted elsewhere (an append-only log of write batches).
 */
export {
  IMAGE_CHUNK_BYTES, MAX_IMAGE_CHUNKS, checkChunk, checkChunks, chunkLengths, chunksOf, compareEpoch, compareVersion, decodeManifest, encodeManifest, hashChunk, hashPiecesBeside, hashPiecesOffThread,
  imageFromChunks, imagePieces, imageToChunks, serializeImage, sha256
} from './image.js'
export type { ActivationEpoch, ImageManifest, ImagePieces, ProcessImage, ProcessVersion, StoredMessage } from './image.js'
export { ImageStore } from './image-store.js'
export { DEFAULT_MAX_LOG_BYTES, MAX_REPLICA_BYTES, ReplicaStore } from './replica-store.js'
export type { ApplyResult, ReplicaStoreInit, WriteBatch, WriteOp } from './replica-store.js'
