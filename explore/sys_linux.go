package explore

import "syscall"

// oDirectory is only used to print open flags.
const oDirectory = syscall.O_DIRECTORY
