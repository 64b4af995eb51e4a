package app

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// The stored form of a trace context (persistence.StoredEvent.TraceContext),
// version 0: 26 bytes,
//
//	byte  0       version, 0
//	bytes 1–16    trace ID
//	bytes 17–24   span ID
//	byte  25      trace flags (W3C: bit 0 is "sampled")
//
// the fields of a W3C traceparent header, in binary. The trace state is not
// recorded. A reader ignores a trace context of another version or
// length: a later version may add fields.
const (
	traceContextVersion = 0
	traceContextLen     = 1 + 16 + 8 + 1
)

// EncodeTraceContext returns the stored form of sc, as save records it in
// each event's persistence.StoredEvent.TraceContext: version 0, then the
// trace ID (16 bytes), the span ID (8) and the trace flags (1). It returns
// nil when sc is not valid.
func EncodeTraceContext(sc trace.SpanContext) []byte {
	if !sc.IsValid() {
		return nil
	}
	b := make([]byte, traceContextLen)
	tid, sid := sc.TraceID(), sc.SpanID()
	b[0] = traceContextVersion
	copy(b[1:17], tid[:])
	copy(b[17:25], sid[:])
	b[25] = byte(sc.TraceFlags())
	return b
}

// DecodeTraceContext returns the span context stored in b by
// EncodeTraceContext, marked remote (it was saved by another process, or
// another time), and true. It returns false, never an error, for an empty
// b (an event saved without a span, or before the column existed), another
// version or length, or IDs that are not valid: a trace context is a hint
// for a trace viewer, and a bad one must not stop processing.
func DecodeTraceContext(b []byte) (trace.SpanContext, bool) {
	if len(b) != traceContextLen || b[0] != traceContextVersion {
		return trace.SpanContext{}, false
	}
	var tid trace.TraceID
	var sid trace.SpanID
	copy(tid[:], b[1:17])
	copy(sid[:], b[17:25])
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(b[25]), Remote: true,
	})
	return sc, sc.IsValid()
}

// recordTraceContext records, in each of stored, the trace context of the
// span that ctx holds, if it holds a valid one: the span of the save. The
// events share one slice, which no recorder changes.
func recordTraceContext(ctx context.Context, stored []persistence.StoredEvent) {
	b := EncodeTraceContext(trace.SpanContextFromContext(ctx))
	if b == nil {
		return
	}
	for i := range stored {
		stored[i].TraceContext = b
	}
}
