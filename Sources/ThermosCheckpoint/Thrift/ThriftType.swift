/// Type codes of the Thrift binary protocol (TBinaryProtocol).
enum ThriftType: UInt8, Sendable {
    case stop = 0
    case bool = 2
    case byte = 3
    case double = 4
    case i16 = 6
    case i32 = 8
    case i64 = 10
    case string = 11
    case structure = 12
    case map = 13
    case set = 14
    case list = 15
}
