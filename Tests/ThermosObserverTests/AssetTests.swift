import Foundation
import Glibc
import Testing
@testable import ThermosObserver

/// The assets compiled into the binary are the files in `Sources/ThermosObserver/Assets`
/// (run `python3 Sources/ThermosObserver/Assets/generate.py` after editing one).
@Suite struct AssetTests {
    static let assetDirectory: String = {
        let file = #filePath
        let tests = file[..<file.range(of: "/Tests/ThermosObserverTests/")!.lowerBound]
        return tests + "/Sources/ThermosObserver/Assets"
    }()

    @Test func embeddedAssetsAreCurrent() throws {
        let handle = try #require(opendir(Self.assetDirectory))
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name.hasSuffix(".mustache") || name.hasSuffix(".css") || name.hasSuffix(".js") { names.append(name) }
        }
        #expect(Set(names) == Set(EmbeddedAssets.files.keys), "run Sources/ThermosObserver/Assets/generate.py")
        for name in names {
            let text = String(decoding: readFile(Self.assetDirectory + "/" + name), as: UTF8.self)
            #expect(EmbeddedAssets.files[name] == text, "\(name) changed: run Sources/ThermosObserver/Assets/generate.py")
        }
    }

    func readFile(_ path: String) -> [UInt8] {
        guard let file = fopen(path, "rb") else { return [] }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer.prefix(count)
        }
        return bytes
    }
}
