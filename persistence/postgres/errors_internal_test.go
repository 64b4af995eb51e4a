package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// allKinds are the persistence error kinds, for checking that a mapped
// error is of exactly the expected kinds.
var allKinds = []error{
	persistence.ErrPersistence,
	persistence.ErrConnection,
	persistence.ErrDatabase,
	persistence.ErrData,
	persistence.ErrOperational,
	persistence.ErrIntegrity,
	persistence.ErrInternal,
	persistence.ErrProgramming,
	persistence.ErrNotSupported,
}

// kindsOf returns the kinds that are k: k itself and its ancestors.
func kindsOf(k error) map[error]bool {
	is := map[error]bool{}
	for _, other := range allKinds {
		if errors.Is(k, other) {
			is[other] = true
		}
	}
	return is
}

// partition_leases_claim's refusal of another count is a
// *persistence.PartitionCountError, which a retry does not cure.
func TestMapErrorPartitionCount(t *testing.T) {
	t.Parallel()
	err := mapError("claim partitions", &pgconn.PgError{Code: "ZE001", Detail: "recorded 4, requested 8"}, nil)
	var countErr *persistence.PartitionCountError
	require.ErrorAs(t, err, &countErr)
	require.Equal(t, persistence.PartitionCountError{Recorded: 4, Requested: 8}, *countErr)
	require.ErrorIs(t, err, persistence.ErrPartitionCount)
	require.False(t, persistence.IsRetryable(err))
	require.False(t, errors.Is(err, persistence.ErrPersistence))
}

func TestMapErrorPgError(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("0e4f3a1c-6b2d-4c8e-9f1a-2b3c4d5e6f70")
	keyDetail := fmt.Sprintf("Key (originator_id, originator_version)=(%s, 3) already exists.", id)
	tracking := &persistence.Tracking{ApplicationName: "upstream", NotificationID: 17}

	tests := []struct {
		name     string
		pgErr    *pgconn.PgError
		tracking *persistence.Tracking
		kind     error
		// wantConcurrency, when set, checks the ConcurrencyError's key.
		wantConcurrency *persistence.ConcurrencyError
		wantTracking    *persistence.Tracking // a TrackingConflictError carrying this
		wantDBError     bool                  // a DatabaseError with Code == SQLSTATE
	}{
		{
			name:            "events key",
			pgErr:           &pgconn.PgError{Code: "23505", ConstraintName: "stored_events_pkey", Detail: keyDetail},
			kind:            persistence.ErrIntegrity,
			wantConcurrency: &persistence.ConcurrencyError{OriginatorID: id, Version: 3},
		},
		{
			name:            "events key with tracking given",
			pgErr:           &pgconn.PgError{Code: "23505", ConstraintName: "stored_events_pkey", Detail: keyDetail},
			tracking:        tracking,
			kind:            persistence.ErrIntegrity,
			wantConcurrency: &persistence.ConcurrencyError{OriginatorID: id, Version: 3},
		},
		{
			name:            "snapshots key",
			pgErr:           &pgconn.PgError{Code: "23505", ConstraintName: "snapshots_pkey", Detail: keyDetail},
			kind:            persistence.ErrIntegrity,
			wantConcurrency: &persistence.ConcurrencyError{OriginatorID: id, Version: 3},
		},
		{
			name:            "events key without detail",
			pgErr:           &pgconn.PgError{Code: "23505", ConstraintName: "stored_events_pkey"},
			kind:            persistence.ErrIntegrity,
			wantConcurrency: &persistence.ConcurrencyError{},
		},
		{
			name:         "tracking key",
			pgErr:        &pgconn.PgError{Code: "23505", ConstraintName: "tracking_pkey", Detail: "Key (application_name, notification_id)=(upstream, 17) already exists."},
			tracking:     tracking,
			kind:         persistence.ErrIntegrity,
			wantTracking: tracking,
		},
		{
			name:         "tracking key without tracking",
			pgErr:        &pgconn.PgError{Code: "23505", ConstraintName: "tracking_pkey"},
			kind:         persistence.ErrIntegrity,
			wantTracking: &persistence.Tracking{},
		},
		{
			name:        "unique violation on another constraint",
			pgErr:       &pgconn.PgError{Code: "23505", ConstraintName: "stored_events_notification_id_idx", Detail: keyDetail},
			kind:        persistence.ErrIntegrity,
			wantDBError: true,
		},
		{name: "not null violation", pgErr: &pgconn.PgError{Code: "23502"}, kind: persistence.ErrIntegrity, wantDBError: true},
		{name: "not null on events key name", pgErr: &pgconn.PgError{Code: "23502", ConstraintName: "stored_events_pkey"}, kind: persistence.ErrIntegrity, wantDBError: true},
		{name: "invalid text representation", pgErr: &pgconn.PgError{Code: "22P02"}, kind: persistence.ErrData, wantDBError: true},
		{name: "undefined table", pgErr: &pgconn.PgError{Code: "42P01"}, kind: persistence.ErrProgramming, wantDBError: true},
		{name: "syntax error", pgErr: &pgconn.PgError{Code: "42601"}, kind: persistence.ErrProgramming, wantDBError: true},
		{name: "invalid schema name", pgErr: &pgconn.PgError{Code: "3F000"}, kind: persistence.ErrProgramming, wantDBError: true},
		{name: "feature not supported", pgErr: &pgconn.PgError{Code: "0A000"}, kind: persistence.ErrNotSupported, wantDBError: true},
		{name: "internal error", pgErr: &pgconn.PgError{Code: "XX000"}, kind: persistence.ErrInternal, wantDBError: true},
		{name: "lock not available", pgErr: &pgconn.PgError{Code: "55P03"}, kind: persistence.ErrOperational, wantDBError: true},
		{name: "query canceled", pgErr: &pgconn.PgError{Code: "57014"}, kind: persistence.ErrOperational, wantDBError: true},
		{name: "serialization failure", pgErr: &pgconn.PgError{Code: "40001"}, kind: persistence.ErrOperational, wantDBError: true},
		{name: "deadlock detected", pgErr: &pgconn.PgError{Code: "40P01"}, kind: persistence.ErrOperational, wantDBError: true},
		{name: "idle in transaction session timeout", pgErr: &pgconn.PgError{Code: "25P03"}, kind: persistence.ErrOperational, wantDBError: true},
		{name: "admin shutdown", pgErr: &pgconn.PgError{Code: "57P01"}, kind: persistence.ErrOperational, wantDBError: true},
		{name: "too many connections", pgErr: &pgconn.PgError{Code: "53300"}, kind: persistence.ErrOperational, wantDBError: true},
		{name: "connection failure", pgErr: &pgconn.PgError{Code: "08006"}, kind: persistence.ErrOperational, wantDBError: true},
		{name: "raise exception", pgErr: &pgconn.PgError{Code: "P0001"}, kind: persistence.ErrDatabase, wantDBError: true},
		{name: "partition count without its detail", pgErr: &pgconn.PgError{Code: "ZE001"}, kind: persistence.ErrDatabase, wantDBError: true},
		{name: "empty code", pgErr: &pgconn.PgError{}, kind: persistence.ErrDatabase, wantDBError: true},
		{name: "one character code", pgErr: &pgconn.PgError{Code: "2"}, kind: persistence.ErrDatabase, wantDBError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, wrap := range []struct {
				name string
				err  error
			}{
				{"bare", tt.pgErr},
				{"wrapped", fmt.Errorf("exec: %w", tt.pgErr)},
			} {
				err := mapError("insert events", wrap.err, tt.tracking)
				require.Error(t, err, wrap.name)
				require.True(t, strings.HasPrefix(err.Error(), "insert events: "), "%s: %q", wrap.name, err)

				want := kindsOf(tt.kind)
				for _, k := range allKinds {
					require.Equal(t, want[k], errors.Is(err, k), "%s: errors.Is(%v, %v)", wrap.name, err, k)
				}

				// The driver's error stays reachable.
				var gotPg *pgconn.PgError
				require.ErrorAs(t, err, &gotPg, wrap.name)
				require.Same(t, tt.pgErr, gotPg, wrap.name)

				var cErr *persistence.ConcurrencyError
				isConcurrency := errors.As(err, &cErr)
				require.Equal(t, tt.wantConcurrency != nil, isConcurrency, wrap.name)
				if tt.wantConcurrency != nil {
					require.Equal(t, tt.wantConcurrency.OriginatorID, cErr.OriginatorID, wrap.name)
					require.Equal(t, tt.wantConcurrency.Version, cErr.Version, wrap.name)
				}

				var tErr *persistence.TrackingConflictError
				isTracking := errors.As(err, &tErr)
				require.Equal(t, tt.wantTracking != nil, isTracking, wrap.name)
				if tt.wantTracking != nil {
					require.Equal(t, *tt.wantTracking, tErr.Tracking, wrap.name)
				}

				var dbErr *persistence.DatabaseError
				isDB := errors.As(err, &dbErr)
				require.Equal(t, tt.wantDBError, isDB, wrap.name)
				if tt.wantDBError {
					require.Equal(t, tt.pgErr.Code, dbErr.Code, wrap.name)
					require.Equal(t, tt.kind, dbErr.Kind, wrap.name)
				}
			}
		})
	}
}

func TestMapErrorOtherErrors(t *testing.T) {
	t.Parallel()
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	plain := errors.New("something odd")
	tests := []struct {
		name string
		err  error
		// kind is the expected persistence kind; nil means none at all
		// (the error is passed through, as context errors are).
		kind error
		// is lists further errors the result must match.
		is []error
	}{
		{name: "context canceled", err: context.Canceled, is: []error{context.Canceled}},
		{name: "wrapped context canceled", err: fmt.Errorf("query: %w", context.Canceled), is: []error{context.Canceled}},
		{name: "deadline exceeded", err: context.DeadlineExceeded, is: []error{context.DeadlineExceeded}},
		{name: "net.OpError", err: opErr, kind: persistence.ErrConnection, is: []error{opErr}},
		{name: "wrapped net.OpError", err: fmt.Errorf("connect: %w", opErr), kind: persistence.ErrConnection, is: []error{opErr}},
		{name: "unexpected EOF", err: io.ErrUnexpectedEOF, kind: persistence.ErrConnection, is: []error{io.ErrUnexpectedEOF}},
		{name: "EOF", err: io.EOF, kind: persistence.ErrConnection, is: []error{io.EOF}},
		{name: "net.ErrClosed", err: net.ErrClosed, kind: persistence.ErrConnection, is: []error{net.ErrClosed}},
		{name: "closed pool", err: puddle.ErrClosedPool, kind: persistence.ErrConnection, is: []error{puddle.ErrClosedPool}},
		{name: "plain error", err: plain, kind: persistence.ErrDatabase, is: []error{plain}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := mapError("select events", tt.err, nil)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), "select events: "), "%q", err)
			for _, target := range tt.is {
				require.ErrorIs(t, err, target)
			}
			want := map[error]bool{}
			if tt.kind != nil {
				want = kindsOf(tt.kind)
			}
			for _, k := range allKinds {
				require.Equal(t, want[k], errors.Is(err, k), "errors.Is(%v, %v)", err, k)
			}
			var dbErr *persistence.DatabaseError
			require.Equal(t, tt.kind != nil, errors.As(err, &dbErr))
			if tt.kind != nil {
				require.Equal(t, tt.kind, dbErr.Kind)
				require.Empty(t, dbErr.Code)
			}
		})
	}
}

func TestMapErrorNil(t *testing.T) {
	t.Parallel()
	require.NoError(t, mapError("anything", nil, nil))
	require.NoError(t, mapError("anything", nil, &persistence.Tracking{ApplicationName: "a", NotificationID: 1}))
}

func TestMapErrorPgErrorBeatsContext(t *testing.T) {
	t.Parallel()
	// A server error that arrives together with a context error is
	// classified by its SQLSTATE.
	pgErr := &pgconn.PgError{Code: "57014"}
	err := mapError("op", errors.Join(context.Canceled, pgErr), nil)
	require.ErrorIs(t, err, persistence.ErrOperational)
}

func TestConflictingKey(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("0e4f3a1c-6b2d-4c8e-9f1a-2b3c4d5e6f70")
	tests := []struct {
		name        string
		detail      string
		wantID      uuid.UUID
		wantVersion int64
	}{
		{"well formed", fmt.Sprintf("Key (originator_id, originator_version)=(%s, 3) already exists.", id), id, 3},
		{"large version", fmt.Sprintf("Key (originator_id, originator_version)=(%s, 9223372036854775807) already exists.", id), id, 9223372036854775807},
		{"version zero", fmt.Sprintf("Key (originator_id, originator_version)=(%s, 0) already exists.", id), id, 0},
		{"empty", "", uuid.Nil, 0},
		{"no key", "already exists.", uuid.Nil, 0},
		{"no separator", fmt.Sprintf("Key (originator_id, originator_version)=(%s 3) already exists.", id), uuid.Nil, 0},
		{"bad uuid", "Key (originator_id, originator_version)=(not-a-uuid, 3) already exists.", uuid.Nil, 0},
		{"bad version", fmt.Sprintf("Key (originator_id, originator_version)=(%s, x) already exists.", id), uuid.Nil, 0},
		{"empty version", fmt.Sprintf("Key (originator_id, originator_version)=(%s, ) already exists.", id), uuid.Nil, 0},
		{"version overflow", fmt.Sprintf("Key (originator_id, originator_version)=(%s, 99999999999999999999) already exists.", id), uuid.Nil, 0},
		{"empty values", "Key (originator_id, originator_version)=() already exists.", uuid.Nil, 0},
		{"truncated", "Key (originator_id, originator_version)=(", uuid.Nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gotID, gotVersion := conflictingKey(tt.detail)
			require.Equal(t, tt.wantID, gotID)
			require.Equal(t, tt.wantVersion, gotVersion)
		})
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want error
	}{
		{"23505", persistence.ErrIntegrity},
		{"23503", persistence.ErrIntegrity},
		{"22001", persistence.ErrData},
		{"42P01", persistence.ErrProgramming},
		{"2BP01", persistence.ErrProgramming},
		{"2D000", persistence.ErrProgramming},
		{"3D000", persistence.ErrProgramming},
		{"3F000", persistence.ErrProgramming},
		{"0A000", persistence.ErrNotSupported},
		{"XX001", persistence.ErrInternal},
		{"08006", persistence.ErrOperational},
		{"28P01", persistence.ErrOperational},
		{"25P03", persistence.ErrOperational},
		{"40001", persistence.ErrOperational},
		{"53100", persistence.ErrOperational},
		{"54000", persistence.ErrOperational},
		{"55P03", persistence.ErrOperational},
		{"57P01", persistence.ErrOperational},
		{"58030", persistence.ErrOperational},
		{"HV000", persistence.ErrOperational},
		{"P0001", persistence.ErrDatabase},
		{"", persistence.ErrDatabase},
		{"X", persistence.ErrDatabase},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, kindOf(tt.code))
		})
	}
}

// silentServer listens on 127.0.0.1 and accepts connections but never
// answers, as a server behind a network blackhole does. It returns the
// address; the listener and its connections close at cleanup.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// A connect timeout inside the driver gives a *pgconn.ConnectError that
// wraps context.DeadlineExceeded: the server could not be reached, an
// connection failure, though errors.Is still finds the deadline.
func TestMapErrorConnectTimeoutIsConnectionFailure(t *testing.T) {
	t.Parallel()
	cfg, err := pgconn.ParseConfig("postgres://u@" + silentServer(t) + "/db?sslmode=disable")
	require.NoError(t, err)
	cfg.ConnectTimeout = 50 * time.Millisecond
	_, connErr := pgconn.ConnectConfig(t.Context(), cfg)
	var ce *pgconn.ConnectError
	require.ErrorAs(t, connErr, &ce)
	require.ErrorIs(t, connErr, context.DeadlineExceeded, "the driver's own deadline")

	err = mapError("open", connErr, nil)
	require.ErrorIs(t, err, persistence.ErrConnection)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, errors.Is(err, persistence.ErrDatabase))
	var dbErr *persistence.DatabaseError
	require.ErrorAs(t, err, &dbErr)
	require.Same(t, persistence.ErrConnection, dbErr.Kind)

	// A network error that wraps a deadline is a connection failure too.
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}
	require.ErrorIs(t, mapError("dial", opErr, nil), persistence.ErrConnection)

	// The caller's own canceled or expired context, with no connection
	// failure, passes through as before.
	for _, ctxErr := range []error{context.Canceled, context.DeadlineExceeded} {
		err := mapError("query", fmt.Errorf("timeout: %w", ctxErr), nil)
		require.ErrorIs(t, err, ctxErr)
		require.False(t, errors.Is(err, persistence.ErrPersistence), "%v", err)
	}
}

// Open against a server that accepts the connection and never answers
// gives up after POSTGRES_CONNECT_TIMEOUT with a connection failure.
func TestOpenSilentServerIsConnectionFailure(t *testing.T) {
	t.Parallel()
	for _, createTable := range []string{"true", "false"} {
		t.Run("CREATE_TABLE="+createTable, func(t *testing.T) {
			t.Parallel()
			cfg, err := ConfigFromEnv(config.Environment{
				Lookup: func(string) (string, bool) { return "", false },
				Values: map[string]string{
					EnvDatabaseURL:    "postgres://u@" + silentServer(t) + "/db?sslmode=disable",
					EnvConnectTimeout: "1",
					EnvCreateTable:    createTable,
					EnvSchema:         "x",
				},
			})
			require.NoError(t, err)
			require.Equal(t, time.Second, cfg.ConnectTimeout)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			_, err = Open(ctx, cfg)
			require.ErrorIs(t, err, persistence.ErrConnection)
			require.False(t, errors.Is(err, persistence.ErrDatabase), "%v", err)
			require.NoError(t, ctx.Err(), "the connect timeout ended it, not the caller's deadline")
		})
	}
}

func TestRecordOp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		noun     string
		n        int
		tracking bool
		schema   string
		want     string
	}{
		{"event", 1, false, `"app"`, `record 1 event in schema "app"`},
		{"event", 2, false, `"app"`, `record 2 events in schema "app"`},
		{"event", 0, true, `"app"`, `record 0 events with tracking in schema "app"`},
		{"event", 1, true, "", `record 1 event with tracking`},
		{"snapshot", 3, false, `"app"`, `record 3 snapshots in schema "app"`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, recordOp(tt.noun, tt.n, tt.tracking, tt.schema))
	}
}

// classify maps as mapError does, naming no operation.
func TestClassifyNamesNoOperation(t *testing.T) {
	t.Parallel()
	require.NoError(t, classify(nil, nil))
	pgErr := &pgconn.PgError{Severity: "ERROR", Code: "55P03", Message: "could not obtain lock"}
	err := classify(pgErr, nil)
	require.ErrorIs(t, err, persistence.ErrOperational)
	require.Equal(t, "operational error: ERROR: could not obtain lock (SQLSTATE 55P03)", err.Error())
	require.Equal(t, "op: "+err.Error(), mapError("op", pgErr, nil).Error())
	require.Same(t, context.Canceled, classify(context.Canceled, nil))
}
