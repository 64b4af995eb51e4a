package bench

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/httplog"
	"github.com/eventsourcing-go/eventsourcing/system"
)

// BenchmarkRemoteLog reads the same 10,000 notifications as BenchmarkLog,
// from PostgreSQL, along the linked sections of 100 and of 1,000, locally
// (NotificationLog.Section) and over HTTP on loopback (httplog: the
// handler and the client, JSON with base64 states), in the same run.
func BenchmarkRemoteLog(b *testing.B) {
	for _, size := range []int{100, 1000} {
		for _, where := range []string{"local", "remote"} {
			b.Run(fmt.Sprintf("postgres/%s/section=%d", where, size), func(b *testing.B) { benchRemoteLog(b, where, size) })
		}
	}
}

func benchRemoteLog(b *testing.B, where string, sectionSize int) {
	ctx := b.Context()
	a := newApp(b, storePostgres, app.Options{SectionSize: sectionSize})
	writeLog(b, a)
	var log httplog.Log = a.Log()
	if where == "remote" {
		log = serveLog(b, a)
	}
	reader := httplog.NewReader(log, httplog.ReaderOptions{PageSize: sectionSize})
	read := func() error {
		n := 0
		for _, err := range reader.Read(ctx, 1) {
			if err != nil {
				return err
			}
			n++
		}
		if n != logNotifications {
			return fmt.Errorf("read %d notifications, want %d", n, logNotifications)
		}
		return nil
	}
	if err := read(); err != nil { // before the timer: connections and statements
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := read(); err != nil {
			b.Fatal(err)
		}
	}
	op := opLocalLog
	if where == "remote" {
		op = opRemoteLog
	}
	record(b, rowKey{op, storePostgres, sectionSize}, logNotifications, perSecond("reads of 10,000"))
}

// BenchmarkFollowerRemote measures a follower catching up with b.N
// upstream notifications recorded beforehand, as BenchmarkFollower does
// (the one-event policy, pages of 100, PostgreSQL), reading the leader's
// local log and reading it over HTTP on loopback (httplog: the handler
// and the client), in the same run. "writers" is the page size.
func BenchmarkFollowerRemote(b *testing.B) {
	for _, where := range []string{"local", "remote"} {
		b.Run(fmt.Sprintf("postgres/%s/page=100", where), func(b *testing.B) { benchFollowerRemote(b, where) })
	}
}

func benchFollowerRemote(b *testing.B, where string) {
	const pageSize = 100
	env := storeEnv(b, storePostgres, "UPSTREAM,RECEIPTS")
	leader := openApp(b, app.Options{Name: leaderName, Registry: registry(), Env: env})
	writeUpstream(b, leader, b.N)
	follower := system.NewProcessApplication(openApp(b, app.Options{Name: "Receipts", Registry: receiptRegistry(), Env: env}), issueReceipt)
	follower.SetPaging(system.Paging{Size: pageSize})
	key := rowKey{opFollowerLocal, storePostgres, pageSize}
	if where == "local" {
		follower.Follow(leader)
	} else {
		key.op = opFollowerRemote
		follower.FollowLog(leaderName, serveLog(b, leader), leader.Mapper())
	}

	b.ResetTimer()
	n, err := follower.PullAndProcess(b.Context(), leaderName)
	if err != nil {
		b.Fatal(err)
	}
	if n != b.N {
		b.Fatalf("processed %d notifications of %d", n, b.N)
	}
	record(b, key, 1, func(r result) string {
		other := perSecond("notifications")(r)
		resultsMu.Lock()
		defer resultsMu.Unlock()
		if local, ok := results[rowKey{opFollowerLocal, storePostgres, pageSize}]; ok && key.op == opFollowerRemote {
			other += fmt.Sprintf("; %.2f× the local follower above", r.eventsPerSecond()/local.eventsPerSecond())
		}
		return other
	})
}

// serveLog serves the notification log of a over HTTP on loopback until
// the end of b, and returns a client of it.
func serveLog(b *testing.B, a *app.Application) *httplog.Client {
	b.Helper()
	handler, err := httplog.NewHandler(a.Log(), httplog.HandlerOptions{Tokens: []string{"bench"}})
	if err != nil {
		b.Fatal(err)
	}
	server := httptest.NewServer(handler)
	b.Cleanup(server.Close)
	client, err := httplog.NewClient(server.URL, httplog.ClientOptions{Token: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return client
}
