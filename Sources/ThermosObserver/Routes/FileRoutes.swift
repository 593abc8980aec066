import Glibc
import Hummingbird
import NIOCore
import OrderedCollections
import ThermosConfig

extension ObserverServer {
    /// `/logdata`, `/filedata` (chunks) and `/download` (whole files, streamed). Every file is
    /// opened beneath the task's sandbox descriptor (`TaskFiles`), on the thread pool.
    func addFileRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/logdata/:task_id/:process/:run/:logtype") { request, context in
            let id = parameter(context, "task_id"), process = parameter(context, "process")
            let logType = parameter(context, "logtype")
            guard let run = Int(parameter(context, "run")) else { return json(.map([:])) }
            let query = request.uri.queryParameters
            return try await chunk(query.get("offset"), query.get("length")) { files.logFile(id, process: process, run: run, logType: logType) }
        }
        router.get("/filedata/:task_id/**") { request, context in
            let id = parameter(context, "task_id"), path = Self.relativePath(context)
            let query = request.uri.queryParameters
            return try await chunk(query.get("offset"), query.get("length")) { files.sandboxFile(id, path) }
        }
        router.get("/download/:task_id/**") { _, context in
            let id = parameter(context, "task_id"), path = Self.relativePath(context)
            guard case .success(let file) = try await run({ files.sandboxFile(id, path) }) else { return text("Not found", status: .notFound) }
            let name = String(path.split(separator: "/").last ?? "file")
            return Response(
                status: .ok,
                headers: [.contentType: "application/octet-stream", .contentDisposition: Self.attachment(name)],
                body: Self.stream(file))
        }
    }

    /// A chunk response (reference §4.4) for the file `open` returns: `{}` for a refused file
    /// or unparsable numbers; built whole up to `streamingSlice` data bytes, streamed beyond.
    func chunk(_ offset: String?, _ length: String?, _ open: @escaping @Sendable () -> Result<OpenedFile, FileRefusal>) async throws -> Response {
        let maximum = Int64(SafeFiles.maximumChunkLength)
        let slice = SafeFiles.streamingSlice
        let prepared = try await run { () -> (OpenedFile, ChunkJSON.Plan, [UInt8]?)? in
            guard case .success(let file) = open(), let plan = ChunkJSON.plan(offset: offset, length: length, size: file.size, maximum: maximum) else {
                return nil
            }
            switch plan {
            case .empty(let offset):
                return (file, plan, ChunkJSON.empty(offset: offset))
            case .data(let offset, let length) where length <= Int64(slice):
                return (file, plan, ChunkJSON.encode(offset: offset, bytes: file.read(at: offset, count: Int(length))))
            case .data:
                return (file, plan, nil)
            }
        }
        guard case let (file, plan, whole)? = prepared else { return json(.map([:])) }
        if let whole { return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: whole))) }
        guard case .data(let start, let length) = plan else { return json(.map([:])) }
        // Streamed: one slice read and escaped at a time on the thread pool; the writer waits
        // for the client (back-pressure), so a slow reader holds one slice, not the chunk.
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(bytes: ChunkJSON.head(offset: start, length: length)))
            var position = start
            var carry: [UInt8] = []
            let end = start + length
            while position < end {
                let count = Int(min(Int64(slice), end - position))
                let pending = carry
                let from = position
                let (piece, nextCarry, read) = try await Offload.run { () -> ([UInt8], [UInt8], Int) in
                    let bytes = pending + file.read(at: from, count: count)
                    let readCount = bytes.count - pending.count
                    let last = from + Int64(readCount) >= end || readCount < count
                    let keep = last ? 0 : ChunkJSON.incompleteTail(bytes)
                    var out: [UInt8] = []
                    ChunkJSON.appendEscaped(bytes.dropLast(keep), into: &out)
                    return (out, Array(bytes.suffix(keep)), readCount)
                }
                if !piece.isEmpty { try await writer.write(ByteBuffer(bytes: piece)) }
                carry = nextCarry
                if read < count { break }  // the file shrank: the data ends early
                position += Int64(read)
            }
            try await writer.write(ByteBuffer(bytes: ChunkJSON.tail))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    /// The file's bytes in `downloadPiece` reads on the thread pool, each written before the
    /// next is read: any size costs O(piece) memory. A file that shrinks ends the connection.
    static func stream(_ file: OpenedFile) -> ResponseBody {
        let size = file.size
        return ResponseBody(contentLength: Int(size)) { writer in
            var position: Int64 = 0
            let piece = SafeFiles.downloadPiece
            while position < size {
                let count = Int(min(Int64(piece), size - position))
                let offset = position
                let buffer = try await Offload.run { () -> ByteBuffer in
                    var buffer = ByteBufferAllocator().buffer(capacity: count)
                    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                        var done = 0
                        while done < count {
                            let got = pread(file.descriptor, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                            if got < 0 && errno == EINTR { continue }
                            if got <= 0 { break }
                            done += got
                        }
                        return done
                    }
                    return buffer
                }
                guard buffer.readableBytes > 0 else { throw HTTPError(.internalServerError, message: "file shrank while downloading") }
                try await writer.write(buffer)
                position += Int64(buffer.readableBytes)
            }
            try await writer.finish(nil)
        }
    }

    /// `attachment; filename="…"` with an ASCII fallback, plus `filename*=UTF-8''…` (RFC 6266)
    /// when the name is not plain ASCII.
    static func attachment(_ name: String) -> String {
        let plain = name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" && $0 != "%" }
        let fallback = String(String.UnicodeScalarView(name.unicodeScalars.map { scalar -> Unicode.Scalar in
            scalar.value >= 0x20 && scalar.value < 0x7F && scalar != "\"" && scalar != "\\" ? scalar : "_"
        }))
        guard !plain else { return "attachment; filename=\"\(fallback)\"" }
        var encoded = ""
        for byte in name.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80, character.isLetter || character.isNumber || "!#$&+-.^_`|~".contains(character) {
                encoded.append(character)
            } else {
                encoded += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}
