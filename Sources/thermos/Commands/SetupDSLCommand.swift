import ArgumentParser
import Glibc
import ThermosConfig

/// `thermos setup-dsl`: makes the per-user venv the Python DSL loader runs in.
struct SetupDSLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup-dsl",
        abstract: "Set up Python for .thermos/.aurora configs (a venv with pystachio)",
        discussion: """
            Creates a venv (python3 -m venv; Debian's python3-venv package) at \
            $XDG_DATA_HOME/thermos/dsl-venv, by default ~/.local/share/thermos/dsl-venv, and \
            installs pystachio==0.8.10 from PyPI into it. thermos then runs the DSL loader with \
            $THERMOS_PYTHON if set, else this venv's python3, else python3 from PATH.
            """
    )

    @Option(help: ArgumentHelp("The Python that creates the venv.", valueName: "python"))
    var python = "python3"

    @Option(help: ArgumentHelp("Where to create the venv (default: the per-user location above).", valueName: "dir"))
    var venv: String?

    func run() throws {
        let directory = venv.map(absolutePath) ?? DSLPython.venvDirectory
        try makeParents(of: directory)
        printError("Creating \(directory) with \(python) -m venv")
        try step([python, "-m", "venv", "--clear", directory],
                 failure: "\(python) -m venv failed; on Debian/Ubuntu install python3-venv (apt-get install python3-venv) and run thermos setup-dsl again")
        let venvPython = directory + "/bin/python3"
        printError("Installing \(DSLPython.pystachioRequirement) from PyPI")
        try step([venvPython, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", DSLPython.pystachioRequirement],
                 failure: "pip could not install \(DSLPython.pystachioRequirement) into \(directory) (is PyPI reachable?)")
        try step([venvPython, "-c", "import pystachio"], failure: "pystachio does not import in \(directory)")
        print("DSL ready: \(venvPython)")
    }

    private func step(_ arguments: [String], failure: String) throws {
        switch spawnAndWait(arguments, captureOutput: false) {
        case .success(let outcome) where outcome.status == 0: return
        case .success: throw fail(failure, code: 1)
        case .failure(let error): throw fail("cannot start \(arguments[0]): \(error.reason); \(failure)", code: 1)
        }
    }

    private func makeParents(of directory: String) throws {
        var path = ""
        for part in directory.split(separator: "/").dropLast() {
            path += "/" + part
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw fail("cannot create \(path): \(String(cString: strerror(errno)))", code: 1)
            }
        }
    }
}
