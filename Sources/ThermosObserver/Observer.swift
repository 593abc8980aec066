// The observer's HTTP layer is built on Hummingbird; see the other files of this module.
import Hummingbird
