package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Cluster is a throwaway PostgreSQL cluster started by this process: trust
// authentication, listening on a free port on 127.0.0.1, with its files in
// a temporary directory. ServerURL starts one per test binary when it needs
// one; the pgrun command starts one for a whole test run.
type Cluster struct {
	bin  pgBinaries
	base string // temp dir: socket dir, log file and data dir; removed by Stop
	data string // data directory, base/data
	log  string // server log file, base/postgres.log
	port int
	url  string
	cred *syscall.Credential // non-nil when commands run as another OS user
	// durable keeps fsync and full_page_writes on (PGTEST_DURABLE), so that
	// commits cost what they cost in production.
	durable bool
}

type pgBinaries struct {
	initdb, pgCtl, postgres string
}

// startAttempts is how many ports are tried before giving up.
const startAttempts = 3

// StartCluster initialises and starts a throwaway cluster, as the
// "postgres" OS user when run as root, with fsync off unless PGTEST_DURABLE
// says otherwise. On failure it removes whatever it created. The caller
// must call Stop.
func StartCluster() (_ *Cluster, err error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := runAsCredential()
	if err != nil {
		return nil, err
	}

	base, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("creating temp dir: %w", err)
	}
	c := &Cluster{
		bin:  bin,
		base: base,
		data: filepath.Join(base, "data"),
		log:  filepath.Join(base, "postgres.log"),
		cred: cred,
	}
	if c.durable, err = durableFromEnv(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(base)
		}
	}()

	// base must be traversable by the server user; data must be private.
	if err := os.Chmod(base, 0o755); err != nil {
		return nil, fmt.Errorf("chmod %s: %w", base, err)
	}
	if err := os.Mkdir(c.data, 0o700); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	if cred != nil {
		if err := chownTree(base, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}

	if err := c.initdb(); err != nil {
		return nil, err
	}

	for attempt := 1; ; attempt++ {
		err = c.start()
		if err == nil {
			return c, nil
		}
		if attempt == startAttempts || !errors.Is(err, errPortInUse) {
			return nil, err
		}
	}
}

func (c *Cluster) initdb() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := c.command(ctx, c.bin.initdb,
		"-D", c.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
	).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s failed: %w\n%s", c.bin.initdb, err, bytes.TrimSpace(out))
	}
	return nil
}

var errPortInUse = errors.New("port in use")

// start picks a free port and starts the server on it.
func (c *Cluster) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	// A fresh log per attempt, so that errors report this attempt only.
	_ = os.Remove(c.log)

	settings := []string{
		"-c listen_addresses=127.0.0.1",
		"-p " + strconv.Itoa(port),
		"-k " + shellQuote(c.base), // pg_ctl passes opts through /bin/sh
		"-c max_connections=200",
		"-c shared_buffers=128MB",
	}
	if !c.durable {
		settings = append(settings, "-c fsync=off", "-c full_page_writes=off")
	}
	opts := strings.Join(settings, " ")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := c.command(ctx, c.bin.pgCtl,
		"-D", c.data, "-l", c.log, "-w", "-t", "60", "-o", opts, "start",
	).CombinedOutput()
	if err != nil {
		logText, _ := os.ReadFile(c.log)
		err = fmt.Errorf("pg_ctl start on port %d failed: %w\n%s\nserver log:\n%s",
			port, err, bytes.TrimSpace(out), bytes.TrimSpace(logText))
		// Make sure a half-started server does not linger.
		_ = c.stopServer()
		if bytes.Contains(logText, []byte("Address already in use")) ||
			bytes.Contains(logText, []byte("could not bind")) {
			return fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return err
	}
	c.port = port
	c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return nil
}

// durableFromEnv reads PGTEST_DURABLE: unset or empty means false.
func durableFromEnv() (bool, error) {
	v := os.Getenv(envDurable)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: true or false (1 or 0) is expected", envDurable, v)
	}
	return b, nil
}

// URL is the superuser connection URL of the cluster's "postgres" database.
func (c *Cluster) URL() string { return c.url }

// Durable reports whether the cluster keeps fsync and full_page_writes on.
func (c *Cluster) Durable() bool { return c.durable }

// Stop stops the server (immediate shutdown) and removes all of the
// cluster's files.
func (c *Cluster) Stop() error {
	stopErr := c.stopServer()
	if err := os.RemoveAll(c.base); err != nil {
		return errors.Join(stopErr, err)
	}
	return stopErr
}

func (c *Cluster) stopServer() error {
	if _, err := os.Stat(filepath.Join(c.data, "postmaster.pid")); errors.Is(err, fs.ErrNotExist) {
		return nil // not running
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.command(ctx, c.bin.pgCtl, "-D", c.data, "-m", "immediate", "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop failed: %w\n%s", err, bytes.TrimSpace(out))
	}
	return nil
}

// command prepares a PostgreSQL command run as the cluster's OS user, in
// the cluster's directory, with a clean environment.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = c.base // the test's cwd may not be accessible to the server user
	env := []string{"LC_ALL=C", "HOME=" + c.base}
	for _, kv := range os.Environ() {
		// PG* variables (PGDATA, PGPORT, PGHOST, ...) would confuse the tools;
		// LC_*/LANG are replaced by LC_ALL=C; HOME is set above.
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") ||
			strings.HasPrefix(kv, "LANG=") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = env
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

// runAsCredential returns the credential PostgreSQL commands must run with,
// or nil to run them as the current user. PostgreSQL refuses to run as root,
// so root runs them as "postgres", or failing that as "nobody".
func runAsCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var errs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			errs = append(errs, fmt.Errorf("user %s has non-numeric uid/gid %s/%s", name, u.Uid, u.Gid))
			continue
		}
		if uid == 0 {
			continue
		}
		// Empty Groups: drop root's supplementary groups.
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, fmt.Errorf("running as root and no non-root user to run PostgreSQL as: %w", errors.Join(errs...))
}

func chownTree(root string, uid, gid int) error {
	return filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", path, err)
		}
		return nil
	})
}

// findBinaries locates initdb, pg_ctl and postgres: on PATH (preferring the
// directory pg_ctl really lives in, so that all three match), else in the
// highest-versioned /usr/lib/postgresql/*/bin.
func findBinaries() (pgBinaries, error) {
	if pgCtl, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(pgCtl); err == nil {
			if b, ok := binariesIn(filepath.Dir(real)); ok {
				return b, nil
			}
		}
		initdb, err1 := exec.LookPath("initdb")
		postgres, err2 := exec.LookPath("postgres")
		if err1 == nil && err2 == nil {
			return pgBinaries{initdb: initdb, pgCtl: pgCtl, postgres: postgres}, nil
		}
	}

	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		return versionLess(filepath.Base(filepath.Dir(dirs[i])), filepath.Base(filepath.Dir(dirs[j])))
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if b, ok := binariesIn(dirs[i]); ok {
			return b, nil
		}
	}
	return pgBinaries{}, errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or under /usr/lib/postgresql/*/bin; install PostgreSQL or set " + envURL)
}

func binariesIn(dir string) (pgBinaries, bool) {
	b := pgBinaries{
		initdb:   filepath.Join(dir, "initdb"),
		pgCtl:    filepath.Join(dir, "pg_ctl"),
		postgres: filepath.Join(dir, "postgres"),
	}
	for _, p := range []string{b.initdb, b.pgCtl, b.postgres} {
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return pgBinaries{}, false
		}
	}
	return b, true
}

// versionLess compares dotted version strings such as "9.6" and "15"
// numerically, component by component.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		an, aErr := strconv.Atoi(as[i])
		bn, bErr := strconv.Atoi(bs[i])
		if aErr != nil || bErr != nil {
			if as[i] != bs[i] {
				return as[i] < bs[i]
			}
			continue
		}
		if an != bn {
			return an < bn
		}
	}
	return len(as) < len(bs)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
