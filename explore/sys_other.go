//go:build !linux

package explore

// oDirectory is only used to print open flags.
const oDirectory = 0
