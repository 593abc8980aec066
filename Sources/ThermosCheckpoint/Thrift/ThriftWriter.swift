/// Appends TBinaryProtocol values to a byte array. Callers write fields in ascending id order
/// and only the fields that are set, as the original Thermos does.
struct ThriftWriter {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    mutating func fieldHeader(_ type: ThriftType, id: Int16) {
        bytes.append(type.rawValue)
        writeI16(id)
    }

    mutating func fieldStop() {
        bytes.append(ThriftType.stop.rawValue)
    }

    mutating func writeI16(_ value: Int16) {
        let bits = UInt16(bitPattern: value)
        bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
        bytes.append(UInt8(truncatingIfNeeded: bits))
    }

    mutating func writeI32(_ value: Int32) {
        let bits = UInt32(bitPattern: value)
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift)))
        }
    }

    mutating func writeI64(_ value: Int64) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
    }

    mutating func writeDouble(_ value: Double) {
        writeI64(Int64(bitPattern: value.bitPattern))
    }

    mutating func writeString(_ value: String) {
        let utf8 = Array(value.utf8)
        writeI32(Int32(truncatingIfNeeded: utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func mapHeader(key: ThriftType, value: ThriftType, count: Int) {
        bytes.append(key.rawValue)
        bytes.append(value.rawValue)
        writeI32(Int32(truncatingIfNeeded: count))
    }

    // Field helpers: each writes nothing when the value is nil.

    mutating func field(_ id: Int16, _ value: Int32?) {
        guard let value else { return }
        fieldHeader(.i32, id: id)
        writeI32(value)
    }

    mutating func field(_ id: Int16, _ value: Int64?) {
        guard let value else { return }
        fieldHeader(.i64, id: id)
        writeI64(value)
    }

    mutating func field(_ id: Int16, _ value: Double?) {
        guard let value else { return }
        fieldHeader(.double, id: id)
        writeDouble(value)
    }

    mutating func field(_ id: Int16, _ value: String?) {
        guard let value else { return }
        fieldHeader(.string, id: id)
        writeString(value)
    }
}
