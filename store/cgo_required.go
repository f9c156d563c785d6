//go:build !cgo

package store

// The SQLite driver (mattn/go-sqlite3) is C code: without cgo it compiles
// a stub that fails at run time. This file stops such a build at compile
// time instead; see the README (build with CGO_ENABLED=1 and a C compiler).
var _ = portmortem_needs_cgo_CGO_ENABLED_1_and_gcc_see_README
