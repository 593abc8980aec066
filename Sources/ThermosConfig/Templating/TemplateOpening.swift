/// A fast test for `{{` (the start of a template reference), used on every string of a config:
/// a scan of the UTF-8 bytes instead of the generic substring search of `String.contains`.
extension StringProtocol {
    var containsTemplateOpening: Bool {
        var previousWasBrace = false
        for byte in utf8 {
            let isBrace = byte == UInt8(ascii: "{")
            if isBrace && previousWasBrace { return true }
            previousWasBrace = isBrace
        }
        return false
    }
}
