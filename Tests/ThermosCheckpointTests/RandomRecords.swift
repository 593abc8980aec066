import OrderedCollections
import ThermosCheckpoint
import ThermosTestSupport

/// Random checkpoint records with every field independently present or absent.
enum RandomRecords {
    static func maybe<T>(_ rng: inout SeededGenerator, _ make: (inout SeededGenerator) -> T) -> T? {
        Bool.random(using: &rng) ? make(&rng) : nil
    }

    static func string(_ rng: inout SeededGenerator) -> String {
        let alphabet = Array("abcXYZ_-./ 0123456789é☃")
        let count = Int.random(in: 0...12, using: &rng)
        return String((0..<count).map { _ in alphabet.randomElement(using: &rng)! })
    }

    static func double(_ rng: inout SeededGenerator) -> Double {
        Double.random(in: -1e12...1e12, using: &rng)
    }

    static func header(_ rng: inout SeededGenerator) -> RunnerHeader {
        RunnerHeader(
            taskID: maybe(&rng, string), launchTimeMs: maybe(&rng) { Int64.random(in: .min ... .max, using: &$0) },
            sandbox: maybe(&rng, string), hostname: maybe(&rng, string), user: maybe(&rng, string),
            ports: maybe(&rng) { rng in
                var ports: OrderedDictionary<String, Int64> = [:]
                for _ in 0..<Int.random(in: 0...4, using: &rng) {
                    ports[string(&rng)] = Int64.random(in: 0...65535, using: &rng)
                }
                return ports
            },
            logDir: maybe(&rng, string), uid: maybe(&rng) { Int32.random(in: .min ... .max, using: &$0) })
    }

    static func processStatus(_ rng: inout SeededGenerator) -> ProcessStatus {
        ProcessStatus(
            seq: maybe(&rng) { Int64.random(in: -1...1_000_000, using: &$0) }, process: maybe(&rng, string),
            state: maybe(&rng) { ProcessState(rawValue: Int32.random(in: -1...8, using: &$0)) },
            startTime: maybe(&rng, double), pid: maybe(&rng) { Int32.random(in: 0...4_000_000, using: &$0) },
            stopTime: maybe(&rng, double), returnCode: maybe(&rng) { Int32.random(in: -64...255, using: &$0) },
            coordinatorPid: maybe(&rng) { Int32.random(in: 0...4_000_000, using: &$0) }, forkTime: maybe(&rng, double))
    }

    static func taskStatus(_ rng: inout SeededGenerator) -> TaskStatus {
        TaskStatus(
            state: maybe(&rng) { TaskState(rawValue: Int32.random(in: -1...8, using: &$0)) },
            timestampMs: maybe(&rng) { Int64.random(in: 0...Int64.max, using: &$0) },
            runnerPid: maybe(&rng) { Int32.random(in: 0...4_000_000, using: &$0) },
            runnerUid: maybe(&rng) { Int32.random(in: 0...70000, using: &$0) })
    }

    static func record(_ rng: inout SeededGenerator) -> RunnerCkpt {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: .runnerHeader(header(&rng))
        case 1: .processStatus(processStatus(&rng))
        default: .taskStatus(taskStatus(&rng))
        }
    }
}
