package correlate

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// HostArtifact is what host assignment knows of one artifact of a bundle.
type HostArtifact struct {
	// Path is the artifact's name in the bundle, folders and archives
	// separated by "/" ("case.zip!/WEB01/netstat.txt").
	Path string
	// Host is the host the artifact's own content names (an event log's
	// computer, systeminfo's Host Name, PSComputerName), "" when none.
	Host string
}

// HostGroup is one case of a bundle: the artifacts of one collection of
// one host.
type HostGroup struct {
	// Host is the host's name as its artifacts give it (the longest form:
	// "WEB01.contoso.local" over "WEB01"); "" when no artifact names one,
	// or for the undecided group.
	Host string
	// Collection is the folder or archive that holds this collection of
	// the host ("nodes/WEB01", "case.zip!"), "" for the whole bundle or
	// for a host's files that sit among other hosts' files.
	Collection string
	// Undecided marks the group of the artifacts whose host could not be
	// decided in a bundle of several hosts: they are not used for
	// verdicts.
	Undecided bool
	// Members are indexes into AssignHosts' input, in input order.
	Members []int
}

// HostPlan is how a bundle's artifacts split into cases.
type HostPlan struct {
	// Groups are the cases, in the order of their first artifact.
	Groups []HostGroup
	// How says, per input artifact, how its host was decided (or why it
	// could not be), for the artifact's notes.
	How []string
	// Hosts counts the distinct hosts the bundle names.
	Hosts int
}

// Scope is what a case's correlation is told about the bundle around
// it: it becomes the "hosts" coverage entry.
type Scope struct {
	// Hosts counts the hosts the bundle names; the check is silent for a
	// bundle of one host and one case.
	Hosts int
	// Cases counts the cases the bundle was split into.
	Cases      int
	Host       string
	Collection string
	// Undecided are the paths of the bundle's artifacts whose host could
	// not be decided, which this case does not use (unless Undecided is
	// set: this case is theirs).
	Undecided     []string
	UndecidedCase bool
}

// HostKey is the name hosts are compared by: the first DNS label, upper
// case ("web01.contoso.local" → "WEB01"), since systeminfo gives the
// NetBIOS name and event logs often the FQDN. An IP address is kept
// whole.
func HostKey(name string) string {
	name = strings.TrimSpace(name)
	if _, err := netip.ParseAddr(name); err == nil {
		return name
	}
	first, _, _ := strings.Cut(name, ".")
	return strings.ToUpper(first)
}

// AssignHosts decides the host of every artifact of a bundle and splits
// the bundle into cases, one per collection of a host. It is the one
// place the rules are written:
//
//   - An artifact that names its host belongs to it.
//   - An artifact that does not (netstat, tasklist, netsh) takes the host
//     of the nearest folder or archive above it whose artifacts name
//     hosts, when they name exactly one. Where they name several, a name
//     below that folder that names exactly one of them decides
//     ("netstat-WEB01.txt", "portmortem-WEB01/netstat.txt"); otherwise
//     its host is undecided.
//   - A host's collection is the outermost folder or archive whose
//     artifacts name that host alone; each is one case, so two
//     collections of one server (taken on two days) stay two cases, as
//     two bundles would. A host's files that sit among other hosts'
//     files join its collection when it has exactly one, and otherwise
//     make a case of their own.
//   - Undecided artifacts (only a bundle of several hosts has them) make
//     a case of their own, which no verdict uses.
//
// A bundle that names no host or one host is one case.
func AssignHosts(arts []HostArtifact) HostPlan {
	plan := HostPlan{How: make([]string, len(arts))}
	keys := make([]string, len(arts))
	under := map[string]map[string]bool{} // folder → host keys named below it
	for i, a := range arts {
		if keys[i] = HostKey(a.Host); keys[i] == "" {
			continue
		}
		for _, f := range folders(a.Path) {
			if under[f] == nil {
				under[f] = map[string]bool{}
			}
			under[f][keys[i]] = true
		}
	}
	plan.Hosts = len(under[""])
	if plan.Hosts == 0 {
		// No artifact names a host: the whole bundle is one case.
		if len(arts) > 0 {
			g := HostGroup{}
			for i := range arts {
				g.Members = append(g.Members, i)
			}
			plan.Groups = []HostGroup{g}
		}
		return plan
	}

	// collection returns the outermost folder of fs (outermost first)
	// whose artifacts name host key alone.
	collection := func(fs []string, key string) (string, bool) {
		for _, f := range fs {
			if hs := under[f]; len(hs) == 1 && hs[key] {
				return f, true
			}
		}
		return "", false
	}
	type slot struct {
		key, coll string
		loose     bool
	}
	slots := make([]*slot, len(arts))
	for i, a := range arts {
		fs := folders(a.Path)
		key := keys[i]
		if key != "" {
			plan.How[i] = "host named in the artifact"
		} else {
			// The nearest folder whose artifacts name hosts.
			var named []string
			near := ""
			for j := len(fs) - 1; j >= 0; j-- {
				if hs := under[fs[j]]; len(hs) > 0 {
					near = fs[j]
					for k := range hs {
						named = append(named, k)
					}
					break
				}
			}
			slices.Sort(named)
			switch byName := namedInPath(a.Path, near, named); {
			case len(named) == 1:
				key = named[0]
				plan.How[i] = fmt.Sprintf("the host of %s, whose artifacts name no other", folderLabel(near))
			case byName != "":
				key = byName
				plan.How[i] = fmt.Sprintf("the host its name names, among the %d hosts of %s", len(named), folderLabel(near))
			default:
				plan.How[i] = fmt.Sprintf("host undecided: it names none, and %s holds artifacts of %d hosts (%s)",
					folderLabel(near), len(named), strings.Join(named, ", "))
				continue
			}
		}
		if c, ok := collection(fs, key); ok {
			slots[i] = &slot{key: key, coll: c}
		} else {
			slots[i] = &slot{key: key, loose: true}
		}
	}
	// Loose files join their host's only collection.
	colls := map[string]map[string]bool{}
	for _, s := range slots {
		if s != nil && !s.loose {
			if colls[s.key] == nil {
				colls[s.key] = map[string]bool{}
			}
			colls[s.key][s.coll] = true
		}
	}
	for _, s := range slots {
		if s != nil && s.loose && len(colls[s.key]) == 1 {
			for c := range colls[s.key] {
				s.coll, s.loose = c, false
			}
		}
	}
	index := map[slot]int{}
	var undecided []int
	for i, s := range slots {
		if s == nil {
			undecided = append(undecided, i)
			continue
		}
		g, ok := index[*s]
		if !ok {
			g = len(plan.Groups)
			index[*s] = g
			plan.Groups = append(plan.Groups, HostGroup{Collection: s.coll})
		}
		plan.Groups[g].Members = append(plan.Groups[g].Members, i)
	}
	for g := range plan.Groups {
		plan.Groups[g].Host = hostName(arts, keys, plan.Groups[g].Members)
	}
	// Two hosts make two groups at least: the undecided artifacts never
	// have one case to join.
	if len(undecided) > 0 {
		plan.Groups = append(plan.Groups, HostGroup{Undecided: true, Members: undecided})
	}
	slices.SortStableFunc(plan.Groups, func(a, b HostGroup) int {
		return cmp.Compare(a.Members[0], b.Members[0])
	})
	return plan
}

// hostName is the name members give their host: the longest form (an
// FQDN over the NetBIOS name), then the one most artifacts give.
func hostName(arts []HostArtifact, keys []string, members []int) string {
	count := map[string]int{}
	for _, i := range members {
		if keys[i] != "" {
			count[strings.TrimSpace(arts[i].Host)]++
		}
	}
	best := ""
	for n, c := range count {
		if best == "" || len(n) > len(best) || len(n) == len(best) && (c > count[best] || c == count[best] && n < best) {
			best = n
		}
	}
	return best
}

// folders lists the folders and archives a path sits in, outermost first,
// starting with the bundle itself (""): "a.zip!/logs/x.txt" gives "",
// "a.zip!", "a.zip!/logs".
func folders(path string) []string {
	out := []string{""}
	for i := range len(path) {
		if path[i] == '/' && i > 0 {
			out = append(out, path[:i])
		}
	}
	return out
}

// folderLabel names a folder in a note.
func folderLabel(f string) string {
	if f == "" {
		return "the bundle"
	}
	return f
}

// namedInPath returns the one host key of keys that path, below the
// folder near, names as a word (bounded by non-alphanumerics: "WEB01" is
// in "netstat-web01.txt" and "portmortem-WEB01/netstat.txt", not in
// "netstat-web010.txt"), or "".
func namedInPath(path, near string, keys []string) string {
	rel := path
	if near != "" {
		rel = strings.TrimPrefix(path, near+"/")
	}
	base := strings.ToUpper(rel)
	found := ""
	for _, k := range keys {
		if k == "" || !containsWord(base, strings.ToUpper(k)) {
			continue
		}
		if found != "" {
			return ""
		}
		found = k
	}
	return found
}

func containsWord(s, w string) bool {
	alnum := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(w)
		if (j == 0 || !alnum(s[j-1])) && (end == len(s) || !alnum(s[end])) {
			return true
		}
		i = j + 1
	}
}
