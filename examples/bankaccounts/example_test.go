package bankaccounts_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/bankaccounts"
)

// Open two accounts in memory, move money between them, and see a debit
// beyond the overdraft limit refused with nothing changed.
func Example() {
	ctx := context.Background()
	check := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	bank, err := bankaccounts.NewBankAccounts(ctx, app.Options{Env: map[string]string{"PERSISTENCE_MODULE": "memory"}})
	check(err)
	defer bank.Close()

	alice, err := bank.OpenAccount(ctx, "Alice", "alice@example.com")
	check(err)
	bob, err := bank.OpenAccount(ctx, "Bob", "bob@example.com")
	check(err)
	check(bank.DepositFunds(ctx, alice, 200_00)) // amounts are in cents
	check(bank.TransferFunds(ctx, alice, bob, 75_00))
	check(bank.SetOverdraftLimit(ctx, bob, 50_00))

	err = bank.WithdrawFunds(ctx, bob, 200_00)
	var insufficient *bankaccounts.InsufficientFundsError
	if errors.As(err, &insufficient) {
		fmt.Printf("refused: balance %s, overdraft limit %s, transaction %s\n",
			bankaccounts.FormatCents(insufficient.Balance),
			bankaccounts.FormatCents(insufficient.OverdraftLimit),
			bankaccounts.FormatCents(insufficient.Amount))
	}
	check(bank.WithdrawFunds(ctx, bob, 100_00))

	check(bank.CloseAccount(ctx, alice))
	err = bank.DepositFunds(ctx, alice, 1_00)
	fmt.Println("deposit to a closed account refused:", errors.Is(err, bankaccounts.ErrAccountClosed))

	aliceBalance, err := bank.GetBalance(ctx, alice)
	check(err)
	bobBalance, err := bank.GetBalance(ctx, bob)
	check(err)
	fmt.Println("Alice:", bankaccounts.FormatCents(aliceBalance))
	fmt.Println("Bob:", bankaccounts.FormatCents(bobBalance))
	// Output:
	// refused: balance 75.00, overdraft limit 50.00, transaction -200.00
	// deposit to a closed account refused: true
	// Alice: 125.00
	// Bob: -25.00
}
