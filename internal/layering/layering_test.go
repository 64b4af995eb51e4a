package layering

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/eventsourcing-go/eventsourcing"

// pkg is what `go list -json` says of one package of the module. Imports
// are the direct imports of its non-test files, Deps their transitive
// closure; TestImports and XTestImports are the direct imports of its
// _test.go files (package p and package p_test).
type pkg struct {
	ImportPath   string
	Imports      []string
	Deps         []string
	TestImports  []string
	XTestImports []string
}

// TestLayering fails, naming the package and the import, for every import
// that crosses a layer. The rules:
//
//  1. domain's non-test code imports only the standard library and
//     github.com/google/uuid, directly or through another package of this
//     module.
//  2. Only persistence/postgres imports db, and only persistence/sqlite
//     imports db/sqlitedb (test files included): they are generated,
//     outside semantic versioning, and wrapped by their adapter.
//  3. Non-test code imports no test library (testify, goleak) and no
//     test-support package. The test-support packages are internal/pgtest
//     and its subpackages (a throwaway PostgreSQL; pgrun is its command),
//     internal/proctest (re-running a test binary as a worker),
//     internal/testtls (certificate authorities for tests of TLS),
//     persistence/recordertest (the recorder conformance suite) and
//     examples/bankaccounts/bankaccountstest (the checks of the bank
//     accounts example's multi-process tests): they exist
//     only for tests, so they may import testify and each other, and only
//     test files may import them.
//  4. Nothing in this module imports testcontainers, test files included:
//     Docker-backed tests live in integration/, a module of its own.
//  5. codec, config and persistence (the storage contract, not its
//     subpackages) depend on no application layer (app, system) and no
//     adapter (persistence/postgres, persistence/memory,
//     persistence/sqlite), even indirectly through another package, and
//     their test files import none of them.
//  6. The adapters persistence/postgres, persistence/memory and
//     persistence/sqlite depend on neither app, system nor codec, under
//     the same terms.
//  7. Within this module, codec depends only on domain and persistence
//     (the storage contract), and persistence on no other package: the
//     environment is read by app, not by the codec. integrity (the
//     hashing of events) depends, like codec, only on domain and
//     persistence.
//  8. The library depends on the OpenTelemetry API only: nothing in this
//     module imports its SDK or exporters (go.opentelemetry.io/otel/sdk,
//     go.opentelemetry.io/otel/exporters), test files included; they live
//     in examples/tracing, a module of its own. And only app and system
//     report telemetry: domain, codec, config and persistence (with its
//     adapters, which take observers instead) import no OpenTelemetry
//     package, even indirectly.
//  9. system and httplog reach storage only through app: their non-test
//     code imports no adapter (persistence/postgres, persistence/memory,
//     persistence/sqlite) and no generated db package. No runner is
//     exempt: the one Postgres-only mechanism, LISTEN, sits behind
//     app.Application.Watch. (They depend on the adapters through app,
//     the composition root, which is why this rule is on direct imports.)
//
// "Depends on" means through any chain of non-test imports, and the message
// shows the chain. The packages come from one `go list` run in the module
// root, found by walking up from the test's directory to go.mod, so the
// test works from a clean clone; integration/, a module of its own, is not
// listed.
func TestLayering(t *testing.T) {
	t.Parallel()
	pkgs := list(t)
	for _, p := range mustHave {
		if _, ok := pkgs[module+"/"+p]; !ok {
			t.Errorf("package %s is gone: update the layering rules", p)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(pkgs)) {
		for _, v := range violations(pkgs, pkgs[name]) {
			t.Error(v)
		}
	}
}

// mustHave lists the packages the rules name, so that a rename cannot
// switch a rule off without notice.
var mustHave = []string{
	"domain", "db", "db/sqlitedb", "codec", "config", "persistence", "persistence/postgres",
	"persistence/memory", "persistence/sqlite", "persistence/recordertest", "internal/pgtest",
	"internal/proctest", "internal/testtls", "app", "system", "integrity", "httplog",
}

// dependsOn is the verb of a violation found in Deps, which may be
// indirect: its message shows the chain of imports.
const dependsOn = "depends on"

func violations(pkgs map[string]pkg, p pkg) []string {
	var out []string
	name := short(p.ImportPath)
	testImports := slices.Concat(p.TestImports, p.XTestImports)
	all := slices.Concat(p.Imports, testImports)
	forbid := func(imports []string, what string, bad func(string) bool) {
		for _, imp := range imports {
			if bad(imp) && imp != p.ImportPath {
				via := ""
				if what == dependsOn {
					via = through(pkgs, p, imp)
				}
				out = append(out, name+" "+what+" "+short(imp)+via)
			}
		}
	}
	// deps is the transitive closure of the non-test imports, less the
	// outside packages reached only through another: those are the fault
	// of the import that brought them, reported in their place (by p or by
	// the module's package on the way).
	deps := slices.DeleteFunc(slices.Clone(p.Deps), func(d string) bool {
		return !under(d, module) && !slices.Contains(p.Imports, d)
	})

	// Rule 1.
	if name == "domain" {
		forbid(deps, dependsOn, func(imp string) bool {
			return !standard(imp) && imp != "github.com/google/uuid"
		})
	}
	// Rule 2.
	if name != "db" && name != "persistence/postgres" {
		forbid(all, "imports", func(imp string) bool { return imp == module+"/db" })
	}
	if name != "db/sqlitedb" && name != "persistence/sqlite" {
		forbid(all, "imports", func(imp string) bool { return imp == module+"/db/sqlitedb" })
	}
	// Rule 3.
	if !testSupport(p.ImportPath) {
		forbid(p.Imports, "imports, outside its test files,", func(imp string) bool {
			return under(imp, "github.com/stretchr/testify") || under(imp, "go.uber.org/goleak") || testSupport(imp)
		})
	}
	// Rule 4.
	forbid(all, "imports", func(imp string) bool { return under(imp, "github.com/testcontainers") })
	// Rules 5 and 6.
	var layers []string
	switch name {
	case "codec", "config", "persistence":
		layers = []string{"app", "system", "persistence/postgres", "persistence/memory", "persistence/sqlite"}
	case "persistence/postgres", "persistence/memory", "persistence/sqlite":
		layers = []string{"app", "system", "codec"}
	}
	if layers != nil {
		bad := func(imp string) bool {
			return slices.ContainsFunc(layers, func(l string) bool { return under(imp, module+"/"+l) })
		}
		forbid(deps, dependsOn, bad)
		forbid(testImports, "imports, in its test files,", bad)
	}
	// Rule 7.
	allowed := map[string][]string{"codec": {"domain", "persistence"}, "integrity": {"domain", "persistence"}, "persistence": {}}
	if ok, found := allowed[name]; found {
		forbid(deps, dependsOn, func(imp string) bool {
			return under(imp, module) && !slices.Contains(ok, short(imp))
		})
	}
	// Rule 8.
	forbid(all, "imports", func(imp string) bool {
		return under(imp, "go.opentelemetry.io/otel/sdk") || under(imp, "go.opentelemetry.io/otel/exporters")
	})
	if slices.ContainsFunc([]string{"domain", "codec", "config", "persistence"}, func(l string) bool { return under(p.ImportPath, module+"/"+l) }) {
		forbid(deps, dependsOn, func(imp string) bool { return under(imp, "go.opentelemetry.io") })
	}
	// Rule 9.
	if under(name, "system") || under(name, "httplog") {
		forbid(p.Imports, "imports, outside its test files,", func(imp string) bool {
			return slices.ContainsFunc([]string{"persistence/postgres", "persistence/memory", "persistence/sqlite", "db"},
				func(l string) bool { return under(imp, module+"/"+l) })
		})
	}
	return out
}

// testSupport reports whether path is a package that exists only for
// tests (rule 3).
func testSupport(path string) bool {
	return under(path, module+"/internal/pgtest") || path == module+"/internal/proctest" || path == module+"/internal/testtls" ||
		path == module+"/persistence/recordertest" || path == module+"/examples/bankaccounts/bankaccountstest"
}

// under reports whether path is root or a package below it.
func under(path, root string) bool {
	return path == root || strings.HasPrefix(path, root+"/")
}

// standard reports whether path is in the standard library: as in
// goimports, a path whose first element has no dot (and "C", for cgo).
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// short names a package of the module by its path inside it.
func short(path string) string {
	if rel, ok := strings.CutPrefix(path, module+"/"); ok {
		return rel
	}
	return path
}

// through returns, when p depends on dep only indirectly, the shortest
// chain of imports from p to dep, as " (via a → b → dep)".
func through(pkgs map[string]pkg, p pkg, dep string) string {
	if slices.Contains(p.Imports, dep) {
		return ""
	}
	prev := map[string]string{p.ImportPath: ""}
	queue := []string{p.ImportPath}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, imp := range pkgs[cur].Imports {
			if _, seen := prev[imp]; seen {
				continue
			}
			prev[imp] = cur
			if imp == dep {
				var chain []string
				for at := dep; at != p.ImportPath; at = prev[at] {
					chain = append(chain, short(at))
				}
				slices.Reverse(chain)
				return " (via " + strings.Join(chain, " → ") + ")"
			}
			queue = append(queue, imp)
		}
	}
	return " (indirectly)"
}

// list runs `go list -json ./...` from the module root and returns the
// packages by import path.
func list(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps,TestImports,XTestImports", "./...")
	cmd.Dir = moduleRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// moduleRoot walks up from the test's working directory (its package
// directory) to the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// TestViolations runs the rules on made-up packages, so that a rule whose
// predicate is wrong shows here rather than passing the module in silence.
func TestViolations(t *testing.T) {
	t.Parallel()
	m := func(p string) string { return module + "/" + p }
	// A made-up module: app imports the postgres adapter, which imports
	// db; helper imports app.
	world := map[string]pkg{
		m("app"):                  {ImportPath: m("app"), Imports: []string{m("persistence/postgres")}},
		m("persistence/postgres"): {ImportPath: m("persistence/postgres"), Imports: []string{m("db")}},
		m("helper"):               {ImportPath: m("helper"), Imports: []string{m("app")}},
	}
	tests := []struct {
		name string
		p    pkg
		want []string
	}{
		{"domain imports only the standard library and uuid",
			pkg{ImportPath: m("domain"), Imports: []string{"fmt", "github.com/google/uuid"}, Deps: []string{"fmt", "github.com/google/uuid"}}, nil},
		{"domain imports another module",
			pkg{ImportPath: m("domain"), Imports: []string{"github.com/jackc/pgx/v5"}, Deps: []string{"github.com/jackc/pgx/v5"}},
			[]string{"domain depends on github.com/jackc/pgx/v5"}},
		{"app imports db in a test file",
			pkg{ImportPath: m("app"), TestImports: []string{m("db")}},
			[]string{"app imports db"}},
		{"non-test code imports testify",
			pkg{ImportPath: m("app"), Imports: []string{"github.com/stretchr/testify/require"}},
			[]string{"app imports, outside its test files, github.com/stretchr/testify/require"}},
		{"the conformance suite may import testify",
			pkg{ImportPath: m("persistence/recordertest"), Imports: []string{"github.com/stretchr/testify/require"}}, nil},
		{"a test file imports testcontainers",
			pkg{ImportPath: m("app"), XTestImports: []string{"github.com/testcontainers/testcontainers-go"}},
			[]string{"app imports github.com/testcontainers/testcontainers-go"}},
		{"codec depends on an adapter through app",
			pkg{ImportPath: m("codec"), Imports: []string{m("helper")}, Deps: []string{m("helper"), m("app"), m("persistence/postgres")}},
			[]string{
				"codec depends on app (via helper → app)",
				"codec depends on persistence/postgres (via helper → app → persistence/postgres)",
				"codec depends on helper",
				"codec depends on app (via helper → app)",
				"codec depends on persistence/postgres (via helper → app → persistence/postgres)",
			}},
		{"an adapter imports codec in a test file",
			pkg{ImportPath: m("persistence/memory"), TestImports: []string{m("codec")}},
			[]string{"persistence/memory imports, in its test files, codec"}},
		{"persistence depends on OpenTelemetry",
			pkg{ImportPath: m("persistence"), Imports: []string{"go.opentelemetry.io/otel"}, Deps: []string{"go.opentelemetry.io/otel"}},
			[]string{"persistence depends on go.opentelemetry.io/otel"}},
		{"system reaches storage through app",
			pkg{ImportPath: m("system"), Imports: []string{m("app")}, Deps: []string{m("app"), m("persistence/postgres"), m("db")}}, nil},
		{"system imports the postgres adapter",
			pkg{ImportPath: m("system"), Imports: []string{m("persistence/postgres")}},
			[]string{"system imports, outside its test files, persistence/postgres"}},
		{"httplog imports the memory adapter and sqlite's generated code",
			pkg{ImportPath: m("httplog"), Imports: []string{m("persistence/memory"), m("db/sqlitedb")}},
			[]string{"httplog imports db/sqlitedb", "httplog imports, outside its test files, persistence/memory", "httplog imports, outside its test files, db/sqlitedb"}},
		{"system's tests may use an adapter",
			pkg{ImportPath: m("system"), Imports: []string{m("app")}, XTestImports: []string{m("persistence/sqlite")}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pkgs := maps.Clone(world)
			pkgs[tt.p.ImportPath] = tt.p
			if got := violations(pkgs, tt.p); !slices.Equal(got, tt.want) {
				t.Errorf("violations:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
