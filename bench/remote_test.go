package bench

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/httplog"
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
	ctx := context.Background()
	a := newApp(b, storePostgres, app.Options{SectionSize: sectionSize})
	for range logNotifications / 1000 {
		aggs := make([]domain.Aggregate, 10)
		for i := range aggs {
			it, err := newItem(100)
			if err != nil {
				b.Fatal(err)
			}
			aggs[i] = it
		}
		if _, err := a.Save(ctx, aggs...); err != nil {
			b.Fatal(err)
		}
	}
	var log httplog.Log = a.Log()
	if where == "remote" {
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
		log = client
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
