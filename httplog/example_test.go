package httplog_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/counters"
	"github.com/eventsourcing-go/eventsourcing/examples/worlds"
	"github.com/eventsourcing-go/eventsourcing/httplog"
)

// A leader's log served over HTTP and read by a client along its sections;
// the reader decodes the states with the leader's mapper.
func Example() {
	ctx := context.Background()
	leader, err := app.New(ctx, app.Options{Name: "Worlds", Registry: worlds.NewRegistry(),
		Env: map[string]string{"PERSISTENCE_MODULE": "memory"}, Lookup: noEnv})
	if err != nil {
		panic(err)
	}
	defer leader.Close()
	if _, err := counters.MakeWorlds(ctx, leader, 1); err != nil {
		panic(err)
	}

	// Watcher: followers waiting for new notifications (Client.Watch)
	// are answered as soon as the leader records some.
	h, err := httplog.NewHandler(leader.Log(), httplog.HandlerOptions{Tokens: []string{"secret"}, Watcher: leader})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h) // in production: an http.Server with TLS
	defer srv.Close()

	client, err := httplog.NewClient(srv.URL, httplog.ClientOptions{Token: "secret"})
	if err != nil {
		panic(err)
	}
	for n, err := range httplog.NewReader(client, httplog.ReaderOptions{PageSize: 2}).Read(ctx, 1) {
		if err != nil {
			panic(err)
		}
		e, err := leader.Mapper().ToDomainEvent(n.StoredEvent)
		if err != nil {
			panic(err)
		}
		fmt.Println(n.ID, n.Topic, e.Data)
	}
	// Output:
	// 1 worlds:WorldCreated {world 1}
	// 2 worlds:SomethingHappened {dinosaurs}
	// 3 worlds:SomethingHappened {trucks}
	// 4 worlds:SomethingHappened {internet}
}
