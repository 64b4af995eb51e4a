package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the wait strategy
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	// envImage names the PostgreSQL image to run; `make integration` sets
	// it to the image that scripts/build-postgres-image.sh builds.
	envImage = "EVENTSOURCING_POSTGRES_IMAGE"
	// defaultImage is the official image, for machines that can pull it.
	defaultImage = "postgres:15-bookworm"

	envCI            = "CI"
	envRyukDisabled  = "TESTCONTAINERS_RYUK_DISABLED"
	envHostOverride  = "TESTCONTAINERS_HOST_OVERRIDE"
	envDockerHost    = "DOCKER_HOST"
	pgUser           = "postgres"
	pgPassword       = "integration-secret"
	pgDatabase       = "eventsourcing"
	containerPort    = "5432/tcp"
	startAttempts    = 3
	containerStartup = 2 * time.Minute
)

// image returns the PostgreSQL image the suite runs.
func image() string {
	if v := os.Getenv(envImage); v != "" {
		return v
	}
	return defaultImage
}

// configureTestcontainers disables Ryuk unless the environment says
// otherwise (it cannot be pulled where there is no registry; every test
// terminates its own containers), and, when the Docker engine runs on this
// machine, makes testcontainers reach published ports on 127.0.0.1 rather
// than the default gateway that it would pick inside a container. It must
// run before the first call into testcontainers, which reads its
// configuration once.
func configureTestcontainers() {
	if _, set := os.LookupEnv(envRyukDisabled); !set {
		os.Setenv(envRyukDisabled, "true")
	}
	if _, set := os.LookupEnv(envHostOverride); !set && dockerEngineIsLocal() {
		os.Setenv(envHostOverride, "127.0.0.1")
	}
}

// dockerEngineIsLocal reports whether the engine is reached through a local
// socket and its default bridge lives in this network namespace, so that
// ports it publishes are reachable on loopback.
func dockerEngineIsLocal() bool {
	if h := os.Getenv(envDockerHost); h != "" && !strings.HasPrefix(h, "unix://") {
		return false
	}
	_, err := net.InterfaceByName("docker0")
	return err == nil
}

var (
	dockerOnce sync.Once
	dockerErr  error
)

// requireDocker skips tb when no Docker engine answers, or fails it when CI
// is set.
func requireDocker(tb testing.TB) {
	tb.Helper()
	dockerOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cli, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			dockerErr = err
			return
		}
		defer cli.Close()
		_, dockerErr = cli.Ping(ctx, client.PingOptions{})
	})
	if dockerErr != nil {
		cannotStart(tb, "no Docker engine answers: %v", dockerErr)
	}
}

// cannotStart skips tb with the reason, or fails it when CI is set: CI
// must run the suite, not skip it.
func cannotStart(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(envCI) != "" {
		tb.Fatalf("integration: %s (CI is set, so this is fatal)", msg)
	}
	tb.Skipf("integration: %s; skipping", msg)
}

// The labels of the suite's containers: which process on which host
// started them, so that a later run can remove those of a run that was
// killed before its cleanup (there is no Ryuk to do it).
const (
	labelSuite = "eventsourcing.integration"
	labelHost  = "eventsourcing.integration.host"
	labelPID   = "eventsourcing.integration.pid"
)

func ownLabels() map[string]string {
	host, _ := os.Hostname()
	return map[string]string{labelSuite: "true", labelHost: host, labelPID: strconv.Itoa(os.Getpid())}
}

// removeOrphans removes the containers that runs of this suite on this
// host left behind when their test process died (a timeout, a kill):
// those whose process no longer exists. Containers of runs still going
// are left alone.
func removeOrphans() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return // no Docker: nothing to remove
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", labelSuite+"=true")})
	if err != nil {
		return
	}
	host, _ := os.Hostname()
	for _, c := range list.Items {
		pid, err := strconv.Atoi(c.Labels[labelPID])
		if err != nil || c.Labels[labelHost] != host || processExists(pid) {
			continue
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err == nil {
			fmt.Fprintf(os.Stderr, "integration: removed container %.12s left by test process %d, which is gone\n", c.ID, pid)
		}
	}
}

// processExists reports whether the process pid exists and is not a
// zombie (a killed process whose parent has not collected it yet).
func processExists(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust kill
	}
	// "pid (comm) S ...": the state follows the last ')'.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// server is a PostgreSQL server in a container, published on a host port
// that is chosen when it is created and kept across restarts and network
// reconnections, so that clients can reconnect to the same address.
type server struct {
	container *tcpostgres.PostgresContainer
	host      string
	port      int
	image     string
	docker    *testcontainers.DockerClient
	networks  []string // the networks the container was on, while disconnected
}

// newServer starts a dedicated server for tb, terminated by tb.Cleanup.
// Server settings (-c name=value) may be given as args.
func newServer(tb testing.TB, args ...string) *server {
	tb.Helper()
	requireDocker(tb)
	s, err := startServer(context.Background(), args...)
	if s != nil {
		tb.Cleanup(func() {
			if err := s.terminate(); err != nil {
				tb.Errorf("terminating the container: %v", err)
			}
		})
	}
	if err != nil {
		cannotStart(tb, "cannot start PostgreSQL from image %s: %v", image(), err)
	}
	return s
}

var (
	sharedOnce   sync.Once
	sharedServer *server
	sharedErr    error
)

// shared returns the server shared by the tests that need no faults;
// each of them works in schemas of its own (see newSchema). TestMain
// terminates it.
func shared(tb testing.TB) *server {
	tb.Helper()
	requireDocker(tb)
	sharedOnce.Do(func() { sharedServer, sharedErr = startServer(context.Background()) })
	if sharedErr != nil {
		cannotStart(tb, "cannot start PostgreSQL from image %s: %v", image(), sharedErr)
	}
	return sharedServer
}

func terminateShared() {
	if sharedServer != nil {
		if err := sharedServer.terminate(); err != nil {
			fmt.Fprintln(os.Stderr, "integration: terminating the shared container:", err)
		}
	}
}

var versionOnce sync.Once

// startServer starts a container of image(), retrying with another host
// port if the one chosen was taken meanwhile.
func startServer(ctx context.Context, args ...string) (*server, error) {
	var errs []error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		s, err := startOnce(ctx, args)
		if err == nil {
			versionOnce.Do(func() { s.logVersion(ctx) })
			return s, nil
		}
		errs = append(errs, err)
		if s != nil {
			if terr := s.terminate(); terr != nil {
				errs = append(errs, terr)
			}
		}
		if !strings.Contains(err.Error(), "already allocated") && !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func startOnce(ctx context.Context, args []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	bindIP := netip.Addr{} // all interfaces, unless the engine is local
	if os.Getenv(envHostOverride) == "127.0.0.1" {
		bindIP = netip.MustParseAddr("127.0.0.1")
	}
	img := image()
	cmd := append([]string{"postgres", "-c", "fsync=off", "-c", "max_connections=200"}, args...)
	c, err := tcpostgres.Run(ctx, img,
		tcpostgres.WithUsername(pgUser),
		tcpostgres.WithPassword(pgPassword),
		tcpostgres.WithDatabase(pgDatabase),
		testcontainers.WithCmd(cmd...),
		testcontainers.WithLabels(ownLabels()),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{
				network.MustParsePort(containerPort): {{HostIP: bindIP, HostPort: strconv.Itoa(port)}},
			}
		}),
		// The official image logs "ready to accept connections" twice (its
		// init runs a temporary server); the local one once. A query over
		// the published port works for both, and only when it is ready.
		testcontainers.WithWaitStrategy(readyStrategy()),
	)
	var s *server
	if c != nil {
		s = &server{container: c, port: port, image: img}
	}
	if err != nil {
		return s, err
	}
	if s.host, err = c.Host(ctx); err != nil {
		return s, err
	}
	if s.docker, err = testcontainers.NewDockerClientWithOpts(ctx); err != nil {
		return s, err
	}
	return s, nil
}

func readyStrategy() wait.Strategy {
	return wait.ForSQL(containerPort, "pgx", func(host string, port network.Port) string {
		return connURL(host, int(port.Num()), pgDatabase)
	}).WithStartupTimeout(containerStartup).WithPollInterval(200 * time.Millisecond)
}

func connURL(host string, port int, database string, params ...string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(pgUser, pgPassword),
		Host:     net.JoinHostPort(host, strconv.Itoa(port)),
		Path:     "/" + database,
		RawQuery: strings.Join(append([]string{"sslmode=disable"}, params...), "&"),
	}
	return u.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL returns a connection URL of the server's database, with extra
// key=value parameters.
func (s *server) URL(params ...string) string {
	return connURL(s.host, s.port, pgDatabase, params...)
}

// logVersion prints the server's version once, in the "pgtest:" form that
// the test summary collects.
func (s *server) logVersion(ctx context.Context) {
	conn, err := pgx.Connect(ctx, s.URL())
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return
	}
	if i := strings.Index(version, " on "); i > 0 {
		version = version[:i]
	}
	fmt.Fprintf(os.Stderr, "pgtest: integration: using %s in containers of image %s (testcontainers)\n", version, s.image)
}

// connect returns a superuser connection to the server, closed by
// tb.Cleanup.
func (s *server) connect(tb testing.TB) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL())
	if err != nil {
		tb.Fatalf("connecting to the server: %v", err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// newSchema returns a fresh schema name for tb, dropped by tb.Cleanup.
func (s *server) newSchema(tb testing.TB) string {
	tb.Helper()
	buf := make([]byte, 6)
	if _, err := rand.Read(buf); err != nil {
		tb.Fatal(err)
	}
	name := "it_" + hex.EncodeToString(buf)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.URL())
		if err != nil {
			tb.Logf("dropping schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
			tb.Logf("dropping schema %s: %v", name, err)
		}
	})
	return name
}

func (s *server) id() string { return s.container.GetContainerID() }

// stop stops the container, the server shutting down fast (SIGINT; the
// image's stop signal), and start starts it again, waiting until it
// accepts connections on the same host port.
func (s *server) stop(tb testing.TB) {
	tb.Helper()
	timeout := 20 * time.Second
	if err := s.container.Stop(tb.Context(), &timeout); err != nil {
		tb.Fatalf("stopping the container: %v", err)
	}
}

func (s *server) start(tb testing.TB) {
	tb.Helper()
	if err := s.container.Start(tb.Context()); err != nil {
		tb.Fatalf("starting the container again: %v", err)
	}
}

// kill kills the container's processes with SIGKILL: the server crashes and
// recovers from its write-ahead log on the next start.
func (s *server) kill(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), time.Minute)
	defer cancel()
	if _, err := s.docker.ContainerKill(ctx, s.id(), client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		tb.Fatalf("killing the container: %v", err)
	}
	// Wait until the engine has seen the container exit.
	for ctx.Err() == nil {
		state, err := s.container.State(ctx)
		if err == nil && !state.Running {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("the killed container did not stop")
}

// pause freezes every process of the container (docker pause); unpause
// thaws them.
func (s *server) pause(tb testing.TB) {
	tb.Helper()
	if _, err := s.docker.ContainerPause(tb.Context(), s.id(), client.ContainerPauseOptions{}); err != nil {
		tb.Fatalf("pausing the container: %v", err)
	}
}

func (s *server) unpause(tb testing.TB) {
	tb.Helper()
	if _, err := s.docker.ContainerUnpause(tb.Context(), s.id(), client.ContainerUnpauseOptions{}); err != nil {
		tb.Fatalf("unpausing the container: %v", err)
	}
}

// disconnect cuts the container off its networks (docker network
// disconnect): its published port goes away, and connections through it
// break without the server seeing them end. reconnect undoes it; the port
// is published again on the same host port.
func (s *server) disconnect(tb testing.TB) {
	tb.Helper()
	ctx := tb.Context()
	networks, err := s.container.Networks(ctx)
	if err != nil {
		tb.Fatalf("listing the container's networks: %v", err)
	}
	for _, n := range networks {
		if _, err := s.docker.NetworkDisconnect(ctx, n, client.NetworkDisconnectOptions{Container: s.id(), Force: true}); err != nil {
			tb.Fatalf("disconnecting the container from %s: %v", n, err)
		}
	}
	s.networks = networks
}

func (s *server) reconnect(tb testing.TB) {
	tb.Helper()
	ctx := tb.Context()
	for _, n := range s.networks {
		if _, err := s.docker.NetworkConnect(ctx, n, client.NetworkConnectOptions{Container: s.id()}); err != nil {
			tb.Fatalf("reconnecting the container to %s: %v", n, err)
		}
	}
	s.networks = nil
	s.waitReady(tb)
}

// waitReady waits until the server answers a query on its published port.
func (s *server) waitReady(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(containerStartup)
	var lastErr error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tb.Context(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.URL())
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("the server did not answer again: %v", lastErr)
}

// logs returns the container's log, for failure messages.
func (s *server) logs() string {
	rc, err := s.container.Logs(context.Background())
	if err != nil {
		return fmt.Sprintf("<no logs: %v>", err)
	}
	defer rc.Close()
	var b strings.Builder
	buf := make([]byte, 64<<10)
	for {
		n, err := rc.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

func (s *server) terminate() error {
	var errs []error
	if s.docker != nil {
		// Reconnect first if a test stopped half-way, so that nothing lingers.
		for _, n := range s.networks {
			_, _ = s.docker.NetworkConnect(context.Background(), n, client.NetworkConnectOptions{Container: s.id()})
		}
		_, _ = s.docker.ContainerUnpause(context.Background(), s.id(), client.ContainerUnpauseOptions{})
	}
	if err := testcontainers.TerminateContainer(s.container); err != nil {
		errs = append(errs, err)
	}
	if s.docker != nil {
		errs = append(errs, s.docker.Close())
	}
	return errors.Join(errs...)
}
