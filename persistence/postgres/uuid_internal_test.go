package postgres

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

func TestUUIDCodecBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	m := pgtype.NewMap()
	c := uuidCodec{}
	id := uuid.New()
	plan := c.PlanEncode(m, pgtype.UUIDOID, pgtype.BinaryFormatCode, id)
	require.IsType(t, encodeUUID{}, plan, "uuid.UUID is sent as 16 bytes, not text")
	buf, err := plan.Encode(id, nil)
	require.NoError(t, err)
	require.Equal(t, id[:], buf)

	var got uuid.UUID
	scan := c.PlanScan(m, pgtype.UUIDOID, pgtype.BinaryFormatCode, &got)
	require.IsType(t, scanUUID{}, scan)
	require.NoError(t, scan.Scan(buf, &got))
	require.Equal(t, id, got)
	require.Error(t, scan.Scan(buf[:15], &got))
	require.Error(t, scan.Scan(nil, &got))
}
