package order_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/order"
)

// Start an order, see a pickup before confirmation refused with nothing
// recorded, rename it to its own name (no event), then confirm it and pick
// it up.
func Example() {
	ctx := context.Background()
	check := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	orders, err := order.NewOrders(ctx, app.Options{Env: map[string]string{"PERSISTENCE_MODULE": "memory"}})
	check(err)
	defer orders.Close()

	id, err := orders.CreateOrder(ctx, "my order")
	check(err)

	err = orders.PickupOrder(ctx, id, time.Now())
	fmt.Println("pickup before confirm refused:", errors.Is(err, order.ErrNotConfirmed))

	check(orders.RenameOrder(ctx, id, "my order")) // the same name: no event
	check(orders.ConfirmOrder(ctx, id, time.Now()))
	check(orders.PickupOrder(ctx, id, time.Now()))

	o, err := orders.GetOrder(ctx, id)
	check(err)
	fmt.Println("name:", o.Name)
	fmt.Println("version:", o.Version())
	fmt.Println("picked up after confirmed:", !o.PickedUpAt.Before(o.ConfirmedAt))
	section, err := orders.Log().Section(ctx, "1,10")
	check(err)
	for _, item := range section.Items {
		fmt.Println(item.ID, item.Topic)
	}
	// Output:
	// pickup before confirm refused: true
	// name: my order
	// version: 3
	// picked up after confirmed: true
	// 1 order:Order.Started
	// 2 order:Order.Confirmed
	// 3 order:Order.PickedUp
}
