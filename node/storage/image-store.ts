import { createHash } from 'node:crypto'
import { access, mkdir, open, opendir, readdir, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { PraasError } from '../../protocol/errors.js'
import {
  IMAGE_CHUNK_BYTES, MAX_MANIFEST_BYTES, checkChunk, checkChunks, compareVersion, decodeManifest, encodeManifest,
  checkManifest, chunkLengths, chunksOf, hashChunk, hashPiecesBeside, imageFromChunks, imagePieces, sha256
} from './image.js'
import { readFully, syncDir, writeAll } from './files.js'
import type { ImageManifest, ImagePieces, ProcessImage } from './image.js'
import type { FileHandle } from 'node:fs/promises'

/**
 * An image file: this magic, the manifest's length (u32 big-endian) and sha256, the manifest,
 * then the chunks back to back. The manifest's hash covers the fields the chunk hashes do not.
 */
const MAGIC = Buffer.from('PRI1', 'latin1')
const HEAD_BYTES = MAGIC.byteLength + 4 + 32
const FILE_NAME = /^[0-9a-f]{64}$/

function corrupt (name: string, message: string): PraasError {
  return new PraasError('BAD_REQUEST', `corrupt swap image file ${name}: ${message}`)
}

/** Images are named by the sha256 of their pid, since a pid may hold any character. */
function fileName (pid: string): string {
  return createHash('sha256').update(pid, 'utf8').digest('hex')
}

/** Reads and checks an image file's head and manifest; returns the manifest and where the chunks start. */
async function readManifest (fh: FileHandle, name: string): Promise<{ manifest: ImageManifest, bodyAt: number }> {
  const head = await readFully(fh, HEAD_BYTES, 0)
  if (head.byteLength < HEAD_BYTES || !head.subarray(0, MAGIC.byteLength).equals(MAGIC)) throw corrupt(name, 'bad head')
  const length = head.readUInt32BE(MAGIC.byteLength)
  if (length > MAX_MANIFEST_BYTES) throw corrupt(name, 'manifest too long')
  const bytes = await readFully(fh, length, HEAD_BYTES)
  if (bytes.byteLength < length) throw corrupt(name, 'truncated manifest')
  if (sha256(bytes) !== head.subarray(MAGIC.byteLength + 4).toString('hex')) throw corrupt(name, 'manifest checksum')
  const manifest = decodeManifest(bytes)
  if (fileName(manifest.pid) !== name) throw corrupt(name, 'the manifest names another pid')
  return { manifest, bodyAt: HEAD_BYTES + length }
}

/** Whether an error says the file is not there. */
function missing (err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT'
}

/** The file opened for reading; undefined if it is not there. */
async function openIfPresent (path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r')
  } catch (err) {
    if (missing(err)) return undefined
    throw err
  }
}

/**
 * One node's swap images on local disk, one file per pid. A file is written whole under a
 * temporary name, synced once and renamed into place, so a crash leaves the old image or the new.
 * Nothing of an image stays in memory: a swapped process costs its node a file, not RSS (the
 * manifest is read from the file's head when asked for, from the page cache when it is warm).
 */
export class ImageStore {
  private readonly dir: string
  /** Image files present. */
  private count = 0
  /** The last operation queued per pid: saves and deletes of one pid run one after another. */
  private readonly tails = new Map<string, Promise<unknown>>()

  constructor (dir: string) {
    this.dir = dir
  }

  /** Creates the folder, removes half-written files and counts the images present. */
  async open (): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    this.count = 0
    for (const entry of await readdir(this.dir)) {
      if (entry.endsWith('.tmp')) await unlink(join(this.dir, entry)).catch(() => {})
      else if (FILE_NAME.test(entry)) this.count++
    }
  }

  /** How many images this node holds. */
  get size (): number {
    return this.count
  }

  /** Writes an image unless a newer one (by epoch, then seq) is stored; returns the manifest kept. */
  async save (image: ProcessImage): Promise<ImageManifest> {
    return await this.serialize(image.pid, async () => {
      const stored = await this.manifest(image.pid)
      if (stored != null && compareVersion(image, stored) < 0) return stored
      return await this.writeImage(imagePieces(image))
    })
  }

  /** Stores an image received from a peer, after checking every chunk against the manifest (`hashed`: the caller hashed them). */
  async saveChunks (manifest: ImageManifest, chunks: Uint8Array[], hashed = false): Promise<void> {
    checkChunks(manifest, chunks, hashed)
    await this.serialize(manifest.pid, async () => {
      const stored = await this.manifest(manifest.pid)
      if (stored != null && compareVersion(manifest, stored) < 0) return
      await this.write(manifest, chunks, manifest.chunks)
    })
  }

  /** The stored image, checked; undefined if there is none. */
  async load (pid: string): Promise<ProcessImage | undefined> {
    const read = await this.read(pid)
    if (read == null) return undefined
    // the chunks are hashed in parallel off the event loop, then taken as checked
    const hashes = await Promise.all(read.chunks.map(hashChunk))
    hashes.forEach((hash, i) => { if (hash !== read.manifest.chunks[i]) throw corrupt(fileName(pid), `chunk ${i} checksum`) })
    return imageFromChunks(read.manifest, read.chunks, true)
  }

  /** The stored image as its manifest and checked chunks, ready to send to a peer. */
  async readChunks (pid: string): Promise<{ manifest: ImageManifest, chunks: Uint8Array[] } | undefined> {
    const read = await this.read(pid)
    if (read == null) return undefined
    read.chunks.forEach((chunk, i) => {
      try {
        checkChunk(read.manifest.chunks[i], chunk)
      } catch {
        throw corrupt(fileName(pid), `chunk ${i} checksum`)
      }
    })
    return read
  }

  /** The manifest of the image stored for `pid`; undefined if there is none, or its file is unreadable (the next save replaces it). */
  async manifest (pid: string): Promise<ImageManifest | undefined> {
    const name = fileName(pid)
    const fh = await openIfPresent(join(this.dir, name))
    if (fh == null) return undefined
    try {
      return (await readManifest(fh, name)).manifest
    } catch (err) {
      if (err instanceof PraasError) return undefined
      throw err
    } finally {
      await fh.close()
    }
  }

  /** The manifests of every image held, read one file at a time (unreadable files are left out). */
  async * list (): AsyncGenerator<ImageManifest> {
    for await (const entry of await opendir(this.dir)) {
      if (!FILE_NAME.test(entry.name)) continue
      const fh = await openIfPresent(join(this.dir, entry.name))
      if (fh == null) continue
      try {
        yield (await readManifest(fh, entry.name)).manifest
      } catch (err) {
        if (!(err instanceof PraasError)) throw err
      } finally {
        await fh.close()
      }
    }
  }

  /** Removes a pid's image; false if there was none. */
  async delete (pid: string): Promise<boolean> {
    return this.serialize(pid, async () => {
      try {
        await unlink(join(this.dir, fileName(pid)))
      } catch (err) {
        if (missing(err)) return false
        throw err
      }
      this.count--
      return true
    })
  }

  private async serialize<T> (pid: string, op: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(pid) ?? Promise.resolve()).then(op, op)
    const tail = run.catch(() => {})
    this.tails.set(pid, tail)
    void tail.then(() => {
      if (this.tails.get(pid) === tail) this.tails.delete(pid)
    })
    return run
  }

  /**
   * The whole file in one sync and one rename. The body (the chunks, or any buffers that make
   * the same bytes in order) goes to disk (libuv's pool) while the chunk hashes are computed
   * (`hashes`, started once the write is under way): the manifest's length does not depend on
   * them (fixed-width hex), so its place is known, and it is written last.
   */
  private async write (head: Omit<ImageManifest, 'chunks'>, body: Uint8Array[], hashes: (() => Promise<string[]>) | string[]): Promise<ImageManifest> {
    const name = fileName(head.pid)
    const path = join(this.dir, name)
    const tmp = `${path}.tmp`
    const placeholder = encodeManifest({ ...head, chunks: chunkLengths(head.size).map(() => '0'.repeat(64)) })
    const fh = await open(tmp, 'w')
    let manifest: ImageManifest
    try {
      const written = writeAll(fh, body, HEAD_BYTES + placeholder.byteLength)
      written.catch(() => {})
      manifest = { ...head, chunks: typeof hashes === 'function' ? await hashes() : hashes }
      checkManifest(manifest)
      const encoded = encodeManifest(manifest)
      if (encoded.byteLength !== placeholder.byteLength) throw new PraasError('BAD_REQUEST', 'a manifest changed its length')
      const top = Buffer.allocUnsafe(HEAD_BYTES)
      MAGIC.copy(top, 0)
      top.writeUInt32BE(encoded.byteLength, MAGIC.byteLength)
      createHash('sha256').update(encoded).digest().copy(top, MAGIC.byteLength + 4)
      await written
      await writeAll(fh, [top, encoded], 0)
      await fh.datasync()
    } catch (err) {
      await fh.close()
      await unlink(tmp).catch(() => {})
      throw err
    }
    await fh.close()
    const replacing = await access(path).then(() => true, () => false)
    await rename(tmp, path)
    if (!replacing) this.count++
    await syncDir(this.dir)
    return manifest
  }

  /**
   * Serializes and stores an image, hashing its chunks while they are written (see `write`):
   * the way for a process being swapped. Returns what was stored, to send to replicas.
   */
  async saveImage (image: ProcessImage): Promise<{ manifest: ImageManifest, chunks: () => Uint8Array[] }> {
    const serialized = imagePieces(image)
    return await this.serialize(image.pid, async () => {
      const stored = await this.manifest(image.pid)
      if (stored != null && compareVersion(image, stored) < 0) throw new PraasError('BAD_REQUEST', `a newer image of ${image.pid} is stored`)
      // the chunks only for whoever needs them as chunks (a copy): the file is written from the pieces
      return { manifest: await this.writeImage(serialized), chunks: () => chunksOf(serialized) }
    })
  }

  private async writeImage ({ head, pieces }: ImagePieces): Promise<ImageManifest> {
    return await this.write(head, pieces, async () => await hashPiecesBeside(pieces, head.size))
  }

  /** The raw file of a pid, split into manifest and chunks; chunk hashes are not checked here. */
  private async read (pid: string): Promise<{ manifest: ImageManifest, chunks: Uint8Array[] } | undefined> {
    const name = fileName(pid)
    const fh = await openIfPresent(join(this.dir, name))
    if (fh == null) return undefined
    try {
      const { manifest, bodyAt } = await readManifest(fh, name)
      const body = await readFully(fh, manifest.size + 1, bodyAt)
      if (body.byteLength !== manifest.size) throw corrupt(name, `body of ${body.byteLength} bytes, the manifest says ${manifest.size}`)
      const chunks: Uint8Array[] = []
      for (let at = 0; at < manifest.size; at += IMAGE_CHUNK_BYTES) {
        chunks.push(body.subarray(at, Math.min(manifest.size, at + IMAGE_CHUNK_BYTES)))
      }
      return { manifest, chunks }
    } finally {
      await fh.close()
    }
  }
}
