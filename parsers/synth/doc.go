// Package synth makes synthetic artifacts for benchmarks and scale tests:
// netstat -ano and tasklist /svc captures (Netstat, Tasklist) and System
// and Application event logs written through package parsers/evtxwrite
// (SystemLog, Host). `portmortem synth` writes them to files and into
// bundle folders, one made-up server each.
//
// The output is realistic in shape (row layouts, event shapes, socket
// pools, boots, service-start failures at a chosen rate) and the same for
// the same arguments: the random choices come from generators with fixed
// seeds (Host.Seed for the logs). It is never mistaken for customer data: host names and
// addresses are from documentation ranges where it matters.
//
// Synthetic data is not on the product's read path, so it is a package
// of its own below parsers. Today it imports only parsers/evtxwrite; the
// import rule puts it after reports (it may use any package but cmd), so
// parsers' own tests cannot import it: the benchmarks on synthetic data
// are in the external test package parsers_test. synth_test.go reads
// every generator's output back through parsers.Read.
//
// Adding a generator: take the sizes as arguments, seed a
// rand.New(rand.NewPCG(…)) of its own so that the output stays stable,
// write through a bufio.Writer or an *evtxwrite.Writer, and add a test
// that reads the output back with parsers.Read.
package synth
