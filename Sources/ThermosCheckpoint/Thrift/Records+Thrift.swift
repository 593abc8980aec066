import OrderedCollections

// TBinaryProtocol encoding of the checkpoint records (field ids from `thermos_internal.thrift`).
// Writers emit only the fields that are set, in ascending id order; readers accept any order,
// skip unknown ids and skip fields whose wire type is not the expected one.

extension RunnerHeader {
    func encode(into writer: inout ThriftWriter) {
        writer.field(1, taskID)
        writer.field(2, launchTimeMs)
        writer.field(3, sandbox)
        writer.field(4, hostname)
        writer.field(5, user)
        if let ports {
            writer.fieldHeader(.map, id: 6)
            writer.mapHeader(key: .string, value: .i64, count: ports.count)
            for (name, port) in ports {
                writer.writeString(name)
                writer.writeI64(port)
            }
        }
        writer.field(7, logDir)
        writer.field(8, uid)
        writer.fieldStop()
    }

    init(from reader: inout ThriftReader) throws(CheckpointError) {
        self.init()
        while let (type, id) = try reader.readFieldHeader() {
            switch id {
            case 1: taskID = try reader.expect(.string, actual: type) { r throws(CheckpointError) in try r.readString() }
            case 2: launchTimeMs = try reader.expect(.i64, actual: type) { r throws(CheckpointError) in try r.readI64() }
            case 3: sandbox = try reader.expect(.string, actual: type) { r throws(CheckpointError) in try r.readString() }
            case 4: hostname = try reader.expect(.string, actual: type) { r throws(CheckpointError) in try r.readString() }
            case 5: user = try reader.expect(.string, actual: type) { r throws(CheckpointError) in try r.readString() }
            case 6: ports = try reader.expect(.map, actual: type) { r throws(CheckpointError) in try Self.readPorts(&r) }
            case 7: logDir = try reader.expect(.string, actual: type) { r throws(CheckpointError) in try r.readString() }
            case 8: uid = try reader.expect(.i32, actual: type) { r throws(CheckpointError) in try r.readI32() }
            default: try reader.skip(type: type)
            }
        }
    }

    private static func readPorts(_ reader: inout ThriftReader) throws(CheckpointError) -> OrderedDictionary<String, Int64> {
        let header = try reader.readMapHeader()
        var ports: OrderedDictionary<String, Int64> = [:]
        guard header.key == ThriftType.string.rawValue, header.value == ThriftType.i64.rawValue else {
            // Not map<string, i64>: skip the entries, as generated Thrift code would.
            for _ in 0..<header.count {
                try reader.skip(type: header.key)
                try reader.skip(type: header.value)
            }
            return ports
        }
        for _ in 0..<header.count {
            let name = try reader.readString()
            ports[name] = try reader.readI64()
        }
        return ports
    }
}

extension ProcessStatus {
    func encode(into writer: inout ThriftWriter) {
        writer.field(1, seq)
        writer.field(3, process)
        writer.field(5, state?.rawValue)
        writer.field(6, startTime)
        writer.field(7, pid)
        writer.field(8, stopTime)
        writer.field(9, returnCode)
        writer.field(10, coordinatorPid)
        writer.field(11, forkTime)
        writer.field(12, control?.rawValue)
        writer.fieldStop()
    }

    init(from reader: inout ThriftReader) throws(CheckpointError) {
        self.init()
        while let (type, id) = try reader.readFieldHeader() {
            switch id {
            case 1: seq = try reader.expect(.i64, actual: type) { r throws(CheckpointError) in try r.readI64() }
            case 3: process = try reader.expect(.string, actual: type) { r throws(CheckpointError) in try r.readString() }
            case 5:
                state = try reader.expect(.i32, actual: type) { r throws(CheckpointError) in
                    ProcessState(rawValue: try r.readI32())
                }
            case 6: startTime = try reader.expect(.double, actual: type) { r throws(CheckpointError) in try r.readDouble() }
            case 7: pid = try reader.expect(.i32, actual: type) { r throws(CheckpointError) in try r.readI32() }
            case 8: stopTime = try reader.expect(.double, actual: type) { r throws(CheckpointError) in try r.readDouble() }
            case 9: returnCode = try reader.expect(.i32, actual: type) { r throws(CheckpointError) in try r.readI32() }
            case 10: coordinatorPid = try reader.expect(.i32, actual: type) { r throws(CheckpointError) in try r.readI32() }
            case 11: forkTime = try reader.expect(.double, actual: type) { r throws(CheckpointError) in try r.readDouble() }
            case 12:
                control = try reader.expect(.i32, actual: type) { r throws(CheckpointError) in ControlAction(rawValue: try r.readI32()) } ?? nil
            default: try reader.skip(type: type)
            }
        }
    }
}

extension TaskStatus {
    func encode(into writer: inout ThriftWriter) {
        writer.field(1, state?.rawValue)
        writer.field(2, timestampMs)
        writer.field(3, runnerPid)
        writer.field(4, runnerUid)
        if let control {
            writer.fieldHeader(.structure, id: 5)
            writer.field(1, control.action?.rawValue)
            writer.field(2, control.process)
            writer.fieldStop()
        }
        writer.fieldStop()
    }

    init(from reader: inout ThriftReader) throws(CheckpointError) {
        self.init()
        while let (type, id) = try reader.readFieldHeader() {
            switch id {
            case 1:
                state = try reader.expect(.i32, actual: type) { r throws(CheckpointError) in
                    TaskState(rawValue: try r.readI32())
                }
            case 2: timestampMs = try reader.expect(.i64, actual: type) { r throws(CheckpointError) in try r.readI64() }
            case 3: runnerPid = try reader.expect(.i32, actual: type) { r throws(CheckpointError) in try r.readI32() }
            case 4: runnerUid = try reader.expect(.i32, actual: type) { r throws(CheckpointError) in try r.readI32() }
            case 5: control = try reader.expect(.structure, actual: type) { r throws(CheckpointError) in try Self.readControl(&r) }
            default: try reader.skip(type: type)
            }
        }
    }
}

extension TaskStatus {
    private static func readControl(_ reader: inout ThriftReader) throws(CheckpointError) -> ControlDecision {
        var decision = ControlDecision(action: nil, process: nil)
        while let (type, id) = try reader.readFieldHeader() {
            switch id {
            case 1:
                decision.action = try reader.expect(.i32, actual: type) { r throws(CheckpointError) in ControlAction(rawValue: try r.readI32()) } ?? nil
            case 2: decision.process = try reader.expect(.string, actual: type) { r throws(CheckpointError) in try r.readString() }
            default: try reader.skip(type: type)
            }
        }
        return decision
    }
}

extension RunnerCkpt {
    /// The TBinaryProtocol payload of this record (without the RecordIO length prefix).
    public func thriftPayload() -> [UInt8] {
        var writer = ThriftWriter()
        switch self {
        case .runnerHeader(let header):
            writer.fieldHeader(.structure, id: 1)
            header.encode(into: &writer)
        case .processStatus(let status):
            writer.fieldHeader(.structure, id: 2)
            status.encode(into: &writer)
        case .taskStatus(let status):
            writer.fieldHeader(.structure, id: 3)
            status.encode(into: &writer)
        }
        writer.fieldStop()
        return writer.bytes
    }

    /// Decodes one TBinaryProtocol payload. Unknown fields are skipped; a union with no known
    /// member set, more than one set, or trailing bytes is malformed.
    public init(thriftPayload bytes: [UInt8]) throws(CheckpointError) {
        var reader = ThriftReader(bytes)
        var decoded: [RunnerCkpt] = []
        while let (type, id) = try reader.readFieldHeader() {
            let member: RunnerCkpt?
            switch id {
            case 1:
                member = try reader.expect(.structure, actual: type) { r throws(CheckpointError) in
                    RunnerCkpt.runnerHeader(try RunnerHeader(from: &r))
                }
            case 2:
                member = try reader.expect(.structure, actual: type) { r throws(CheckpointError) in
                    RunnerCkpt.processStatus(try ProcessStatus(from: &r))
                }
            case 3:
                member = try reader.expect(.structure, actual: type) { r throws(CheckpointError) in
                    RunnerCkpt.taskStatus(try TaskStatus(from: &r))
                }
            default:
                try reader.skip(type: type)
                member = nil
            }
            if let member { decoded.append(member) }
        }
        guard reader.isAtEnd else {
            throw CheckpointError(.malformedPayload, "\(bytes.count - reader.position) bytes after the end of the record")
        }
        guard let only = decoded.first else {
            throw CheckpointError(.malformedPayload, "Empty RunnerCkpt encountered!")
        }
        guard decoded.count == 1 else {
            throw CheckpointError(.malformedPayload, "RunnerCkpt union has \(decoded.count) members set")
        }
        self = only
    }
}
