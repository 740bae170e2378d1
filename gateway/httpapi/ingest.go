package httpapi

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// PlatformStore reads a platform's settings: its currency and the date it
// began. Platform returns a not_found error for a platform it does not have.
type PlatformStore interface {
	Platform(ctx context.Context, id string) (postgres.Platform, error)
}

// IdempotencyStore keeps the first answer of each request sent with an
// Idempotency-Key. ClaimIdempotencyKey returns nil when the caller holds the
// key, the first answer for a retry, an idempotency_mismatch error for the
// key used with another body, a conflict error while the first request is
// still being answered, and an invalid error for a malformed key.
type IdempotencyStore interface {
	ClaimIdempotencyKey(ctx context.Context, k postgres.IdempotencyKey) (*postgres.IdempotentAnswer, error)
	CompleteIdempotencyKey(ctx context.Context, k postgres.IdempotencyKey, a postgres.IdempotentAnswer) error
	ReleaseIdempotencyKey(ctx context.Context, k postgres.IdempotencyKey) error
}

// RecordedIndex tells which of a platform's events the engine has recorded,
// with the hash of each (feed.Hash). It only reads.
type RecordedIndex interface {
	RecordedHashes(ctx context.Context, platformID string, eventIDs []string) (map[string][32]byte, error)
}

// Media types of the earnings doors.
const (
	mediaJSON   = "application/json"
	mediaNDJSON = "application/x-ndjson"
	mediaCSV    = "text/csv"
)

// Item statuses of an ingestion answer.
const (
	statusAccepted  = "accepted"  // durable in Kafka
	statusDuplicate = "duplicate" // the same event (id and content) was accepted before: nothing produced
	statusRejected  = "rejected"  // not produced: see code, message and details
	statusFailed    = "failed"    // valid, but Kafka did not take it: send it again
)

// itemAnswer is what became of one event of a batch.
type itemAnswer struct {
	Index      int              `json:"index"`
	EventID    string           `json:"event_id,omitempty"`
	Status     string           `json:"status"`
	StatusCode int              `json:"status_code"`
	Code       string           `json:"code,omitempty"`
	Message    string           `json:"message,omitempty"`
	Details    []gateway.Detail `json:"details,omitempty"`
}

// batchAnswer is the answer to a JSON array or an NDJSON stream: one item per
// event, in the order sent.
type batchAnswer struct {
	Accepted   int          `json:"accepted"`
	Duplicates int          `json:"duplicates"`
	Rejected   int          `json:"rejected"`
	Failed     int          `json:"failed"`
	Items      []itemAnswer `json:"items"`
}

// earningAnswer is the answer to one event sent on its own, when it is not
// rejected.
type earningAnswer struct {
	EventID string `json:"event_id"`
	Status  string `json:"status"` // accepted or duplicate
}

// ingestItem is one event of a request on its way through the door.
type ingestItem struct {
	ev     gateway.Earning
	hash   [32]byte
	value  []byte // canonical form, the Kafka value
	line   int    // line of an NDJSON event
	prefix string // of the field paths of its errors: "[3]." in a batch
	answer itemAnswer
}

// postEarnings takes one event (a JSON object), a JSON array of events or an
// NDJSON stream, validates every event with the platform's policy, drops
// duplicates, produces the rest to Kafka in one call and answers per event
// once they are durable.
func (s *Server) postEarnings(c echo.Context) error {
	platformID, err := s.platformID(c)
	if err != nil {
		return err
	}
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != mediaJSON && mt != mediaNDJSON) {
		return gateway.Errorf(gateway.EUNSUPPORTED, "content type %q is not supported here: send %s (one event or an array) or %s", ct, mediaJSON, mediaNDJSON)
	}
	ctx := c.Request().Context()
	pl, err := s.platform(ctx, platformID)
	if err != nil {
		return err
	}
	// A national ID is keyed here and dropped: the event goes on with its
	// worker key only (feed.Policy.WorkerKey).
	policy := feed.Policy{PlatformID: pl.ID, Currency: pl.Currency, Since: pl.ActiveFrom, Now: s.cfg.Now, MaxSkew: s.cfg.MaxSkew,
		WorkerKey: s.workerKey()}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, s.cfg.MaxBodyBytes)
	var items []*ingestItem
	var single bool
	if mt == mediaNDJSON {
		items, err = s.readNDJSON(body, policy)
	} else {
		items, single, err = s.readJSON(body, policy)
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return gateway.Errorf(gateway.ETOOLARGE, "request body is larger than %d bytes; send fewer events per request, or a CSV upload", s.cfg.MaxBodyBytes)
	}
	if err != nil {
		return err
	}

	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" {
		status, answer := s.accept(ctx, pl.ID, items, single)
		return c.JSON(status, answer)
	}
	if s.cfg.Idempotency == nil {
		return gateway.Errorf(gateway.EINTERNAL, "Idempotency-Key is not available on this server")
	}
	k := postgres.IdempotencyKey{PlatformID: pl.ID, Key: key, Hash: requestHash(items, single)}
	first, err := s.cfg.Idempotency.ClaimIdempotencyKey(ctx, k)
	if err != nil {
		return err
	}
	if first != nil {
		c.Response().Header().Set("Idempotent-Replayed", "true")
		return c.JSONBlob(first.Status, first.Body)
	}
	status, answer := s.accept(ctx, pl.ID, items, single)
	blob, err := json.Marshal(answer)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	// An answer with events Kafka did not take is not kept: a retry with the
	// same key sends them again. When the answer cannot be kept, it is still
	// the truth about this request; a retry with the key is told to wait
	// until the claim is stale, then answered anew (duplicates).
	if err := s.keepAnswer(ctx, k, status, blob, items); err != nil {
		s.log.Error("keep the answer of an idempotency key", "platform", k.PlatformID, "err", err)
	}
	return c.JSONBlob(status, blob)
}

// keepAnswer stores the answer of a keyed request, or releases the key when
// some event failed to reach Kafka.
func (s *Server) keepAnswer(ctx context.Context, k postgres.IdempotencyKey, status int, blob []byte, items []*ingestItem) error {
	ctx = context.WithoutCancel(ctx)
	for _, it := range items {
		if it.answer.Status == statusFailed {
			if err := s.cfg.Idempotency.ReleaseIdempotencyKey(ctx, k); err != nil {
				s.log.Error("release idempotency key", "platform", k.PlatformID, "err", err)
			}
			return nil
		}
	}
	return s.cfg.Idempotency.CompleteIdempotencyKey(ctx, k, postgres.IdempotentAnswer{Status: status, Body: blob})
}

// readJSON reads one event or an array of events, item by item: the body is
// never held whole. A body that is not JSON, or an array that breaks off, is
// refused as a whole; an item that is JSON but not a valid event is rejected
// on its own.
func (s *Server) readJSON(body io.Reader, policy feed.Policy) ([]*ingestItem, bool, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	first, err := firstByte(br)
	switch {
	case errors.Is(err, io.EOF):
		return nil, false, gateway.Invalid("", "malformed_json", "empty body: expected an event or an array of events")
	case err != nil:
		return nil, false, err
	case first == '{':
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, false, err
		}
		return []*ingestItem{decodeItem(0, 0, data, policy, "")}, true, nil
	case first != '[':
		return nil, false, gateway.Invalid("", "malformed_json", "the body must be a JSON object (one event) or an array of events")
	}
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil {
		return nil, false, feed.JSONError(err, "")
	}
	dec.DisallowUnknownFields()
	var items []*ingestItem
	for dec.More() {
		i := len(items)
		if i == s.cfg.MaxBatchItems {
			return nil, false, gateway.Errorf(gateway.ETOOLARGE, "the array holds more than %d events; send them in several requests, or as a CSV upload", s.cfg.MaxBatchItems)
		}
		// Each event is parsed once, straight from the stream.
		var ev feed.Event
		start := dec.InputOffset()
		err := dec.Decode(&ev)
		if err != nil && !itemError(err) {
			return nil, false, inputError(err, itemPrefix(i))
		}
		items = append(items, checkItem(i, ev, err, dec.InputOffset()-start, policy, itemPrefix(i)))
	}
	if _, err := dec.Token(); err != nil {
		return nil, false, inputError(err, "")
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, false, inputError(err, "")
		}
		return nil, false, gateway.Invalid("", "malformed_json", "unexpected data after the array")
	}
	if len(items) == 0 {
		return nil, false, gateway.Invalid("", "empty", "the array holds no events")
	}
	return items, false, nil
}

// readNDJSON reads one event per line, line by line. Blank lines are skipped;
// a line longer than an event may be is rejected on its own.
func (s *Server) readNDJSON(body io.Reader, policy feed.Policy) ([]*ingestItem, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	var items []*ingestItem
	var long []byte
	for line := 1; ; line++ {
		data, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			// Keep a little more than an event may be, to reject it by size.
			if len(long) <= feed.MaxEventBytes {
				long = append(long, data...)
			}
			data, err = br.ReadSlice('\n')
		}
		if long != nil {
			data, long = append(long, data...), nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 {
			i := len(items)
			if i == s.cfg.MaxBatchItems {
				return nil, gateway.Errorf(gateway.ETOOLARGE, "the stream holds more than %d events; send them in several requests, or as a CSV upload", s.cfg.MaxBatchItems)
			}
			items = append(items, decodeItem(i, line, trimmed, policy, itemPrefix(i)))
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if len(items) == 0 {
		return nil, gateway.Invalid("", "empty", "the stream holds no events")
	}
	return items, nil
}

// itemError reports whether a decoding error is about one event of an
// array, the rest of which can still be read: a wrong type or an unknown
// field, found after the event was read whole.
func itemError(err error) bool {
	var typ *json.UnmarshalTypeError
	return errors.As(err, &typ) || strings.HasPrefix(err.Error(), "json: unknown field ")
}

// checkItem checks event i, decoded with decodeErr (nil, or the error of a
// wrong type, an unknown field or malformed JSON) from size bytes; prefix is
// prepended to the field paths of its errors.
func checkItem(i int, ev feed.Event, decodeErr error, size int64, policy feed.Policy, prefix string) *ingestItem {
	it := &ingestItem{prefix: prefix, answer: itemAnswer{Index: i, EventID: ev.EventID}}
	var err error
	var ge *gateway.Error
	switch {
	case size > feed.MaxEventBytes:
		err = &gateway.Error{Code: gateway.ETOOLARGE, Message: fmt.Sprintf("event is larger than %d bytes", feed.MaxEventBytes)}
	case decodeErr != nil:
		// An event of another platform is not looked at.
		err = policy.Mismatch(cmp.Or(ev.PlatformID, policy.PlatformID))
		if err == nil && errors.As(decodeErr, &ge) {
			err = ge
		} else if err == nil {
			err = feed.JSONError(decodeErr, "")
		}
	}
	var e gateway.Earning
	if err == nil {
		e, err = policy.Event(ev)
	}
	if err != nil {
		it.reject(err, it.prefix)
		// For the request hash: what was read of the event, and why it
		// was rejected; never a national ID as sent.
		partial, _ := json.Marshal(ev.Redacted())
		it.value = append(partial, " "+err.Error()...)
		return it
	}
	it.ev, it.value = e, feed.Canonical(e)
	it.hash = sha256.Sum256(it.value)
	return it
}

// inputError turns a failure to read the body into an error: the size limit
// as it is, JSON errors naming the item.
func inputError(err error, prefix string) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return feed.JSONError(err, prefix)
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b, br.UnreadByte()
	}
}

// decodeItem decodes and checks event i, found at line (NDJSON) or 0;
// prefix is prepended to the field paths of its errors.
func decodeItem(i, line int, data []byte, policy feed.Policy, prefix string) *ingestItem {
	var ev feed.Event
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&ev)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = gateway.Invalid("", "malformed_json", "unexpected data after the event")
		}
	}
	it := checkItem(i, ev, err, int64(len(data)), policy, prefix)
	it.line = line
	for j := range it.answer.Details {
		it.answer.Details[j].Line = line
	}
	return it
}

// reject records err as the item's answer, field paths prefixed.
func (it *ingestItem) reject(err error, prefix string) {
	a := &it.answer
	a.Status, a.Code, a.Message = statusRejected, gateway.ErrorCode(err), gateway.ErrorMessage(err)
	a.StatusCode = statusOf[a.Code]
	if a.StatusCode == 0 {
		a.StatusCode = http.StatusInternalServerError
	}
	var ge *gateway.Error
	if errors.As(err, &ge) {
		for _, d := range ge.Details {
			d.Field = prefixField(prefix, d.Field)
			if it.line > 0 {
				d.Line = it.line
			}
			a.Details = append(a.Details, d)
		}
	}
}

func prefixField(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix[:len(prefix)-1]
	default:
		return prefix + field
	}
}

// requestHash is the SHA-256 of a request's canonical body: each event's
// canonical form (for a rejected event, what was read of it and why it was
// rejected), one per line, after a line saying whether it was one event or a
// batch. Field order, spacing and number spelling do not change it, nor
// does sending a batch as an array or as NDJSON.
func requestHash(items []*ingestItem, single bool) [32]byte {
	h := sha256.New()
	if single {
		io.WriteString(h, "event\n")
	} else {
		io.WriteString(h, "batch\n")
	}
	for _, it := range items {
		h.Write(it.value)
		h.Write([]byte{'\n'})
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// accept drops duplicates, produces the remaining valid events in one
// Publish call and returns the answer: for a single event its own shape, for
// a batch one item per event.
func (s *Server) accept(ctx context.Context, platformID string, items []*ingestItem, single bool) (int, any) {
	s.dedupe(ctx, platformID, items)
	keys := s.partitionKeys(ctx, platformID, items)
	var msgs []kafka.Message
	var sent []*ingestItem
	for i, it := range items {
		if it.answer.Status != "" {
			continue
		}
		msgs = append(msgs, kafka.Message{Topic: kafkabus.TopicEarnings, Key: keys[i], Value: it.value})
		sent = append(sent, it)
	}
	if len(msgs) > 0 {
		s.publish(ctx, platformID, msgs, sent)
	}
	if single {
		return singleAnswer(items[0])
	}
	out := batchAnswer{Items: make([]itemAnswer, len(items))}
	for i, it := range items {
		out.Items[i] = it.answer
		switch it.answer.Status {
		case statusAccepted:
			out.Accepted++
		case statusDuplicate:
			out.Duplicates++
		case statusRejected:
			out.Rejected++
		case statusFailed:
			out.Failed++
		}
	}
	return http.StatusOK, out
}

// singleAnswer is the answer to one event sent on its own: 202 accepted,
// 200 duplicate, or the error of a rejected or failed event.
func singleAnswer(it *ingestItem) (int, any) {
	a := it.answer
	switch a.Status {
	case statusAccepted:
		return http.StatusAccepted, earningAnswer{EventID: a.EventID, Status: a.Status}
	case statusDuplicate:
		return http.StatusOK, earningAnswer{EventID: a.EventID, Status: a.Status}
	default:
		return a.StatusCode, errorBody{Code: a.Code, Message: a.Message, Details: a.Details}
	}
}

// publish produces msgs, the Kafka messages of sent, in one call and marks
// each item accepted or failed. When Kafka reports per message (a partial
// failure), the messages it took are accepted; when it fails as a whole,
// none is known to be durable and all are failed.
func (s *Server) publish(ctx context.Context, platformID string, msgs []kafka.Message, sent []*ingestItem) {
	err := s.cfg.Publisher.Publish(ctx, msgs...)
	var werrs kafka.WriteErrors
	perMessage := errors.As(err, &werrs) && len(werrs) == len(msgs)
	if err != nil {
		s.log.Warn("produce earnings", "platform", platformID, "events", len(msgs), "err", err)
	}
	var ok []*ingestItem
	for i, it := range sent {
		if err != nil && (!perMessage || werrs[i] != nil) {
			it.answer.Status, it.answer.StatusCode = statusFailed, http.StatusServiceUnavailable
			it.answer.Code = gateway.EINTERNAL
			it.answer.Message = "Kafka did not take the event; it is not accepted: send it again"
			continue
		}
		it.answer.Status, it.answer.StatusCode = statusAccepted, http.StatusAccepted
		ok = append(ok, it)
	}
	eventsProduced.Add(float64(len(ok)))
	s.ingest.recent.add(platformID, ok)
}

// dedupe answers the events that were accepted before: within the request,
// in this process's index of recently accepted events, and among the events
// the engine has recorded. The same id with the same content is a duplicate;
// with other content, a conflict.
func (s *Server) dedupe(ctx context.Context, platformID string, items []*ingestItem) {
	var ids []string
	for _, it := range items {
		if it.answer.Status == "" {
			ids = append(ids, it.ev.EventID)
		}
	}
	if len(ids) == 0 {
		return
	}
	known := s.ingest.recent.lookup(platformID, ids)
	if s.cfg.Recorded != nil {
		recorded, err := s.cfg.Recorded.RecordedHashes(ctx, platformID, ids)
		if err != nil && s.ingest.lookupWarned.Swap(time.Now().Unix()/10) != time.Now().Unix()/10 {
			// The lookup only spares the engine redeliveries it drops
			// anyway: carry on without it, and say so once in a while.
			s.log.Warn("look up recorded events; answering from the request and the recent index only", "platform", platformID, "err", err)
		}
		for id, h := range recorded {
			known[id] = h
		}
	}
	seen := make(map[string][32]byte, len(ids))
	for _, it := range items {
		if it.answer.Status != "" {
			continue
		}
		id := it.ev.EventID
		h, ok := known[id]
		if !ok {
			h, ok = seen[id]
		}
		switch {
		case !ok:
			seen[id] = it.hash
		case h == it.hash:
			it.answer.Status, it.answer.StatusCode = statusDuplicate, http.StatusOK
		default:
			it.reject(&gateway.Error{Code: gateway.ECONFLICT, Message: "an event with this id and other content was accepted before",
				Details: []gateway.Detail{{Field: "event_id", Code: gateway.ECONFLICT,
					Message: fmt.Sprintf("event %s was accepted with other content; a correction is a new event (kind reversal or adjustment)", quoteID(id))}}}, it.prefix)
		}
	}
}

func quoteID(id string) string {
	if len(id) > 64 {
		id = id[:64] + "…"
	}
	return fmt.Sprintf("%q", id)
}

// platformCacheTTL is how long ingestion uses a platform's settings before
// reading them again.
const platformCacheTTL = 10 * time.Second

// ingestState is what the earnings doors keep between requests.
type ingestState struct {
	platforms    platformCache
	recent       recentIndex
	workerKeys   workerKeyCache
	lookupWarned atomic.Int64 // ten-second slot of the last warning of a failed lookup
	keysWarned   atomic.Int64 // the same, for worker-key lookups
}

// initIngest fills the ingestion defaults of the configuration.
func (s *Server) initIngest() {
	c := &s.cfg
	c.MaxBatchItems = cmp.Or(c.MaxBatchItems, 10_000)
	c.MaxSkew = cmp.Or(c.MaxSkew, feed.DefaultMaxSkew)
	if c.Now == nil {
		c.Now = time.Now
	}
	c.RecentEvents = cmp.Or(c.RecentEvents, 1<<18)
	c.UploadDir = cmp.Or(c.UploadDir, filepath.Join(os.TempDir(), "coverbridge-uploads"))
	c.MaxUploadBytes = cmp.Or(c.MaxUploadBytes, 8<<30)
	s.ingest.platforms.ttl = platformCacheTTL
	s.ingest.recent.size = c.RecentEvents
	s.ingest.workerKeys.size = workerKeyCacheSize
	s.ingest.recent.seed1, s.ingest.recent.seed2 = maphash.MakeSeed(), maphash.MakeSeed()
}

// platform returns a platform's settings, cached for platformCacheTTL.
func (s *Server) platform(ctx context.Context, id string) (postgres.Platform, error) {
	if s.cfg.Platforms == nil {
		return postgres.Platform{}, errors.New("no platform store configured")
	}
	return s.ingest.platforms.get(ctx, id, s.cfg.Platforms)
}

// platformCache keeps platforms read from the store for a short while, so
// that ingestion does not read PostgreSQL on every request.
type platformCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedPlatform
}

type cachedPlatform struct {
	p  postgres.Platform
	at time.Time
}

func (pc *platformCache) get(ctx context.Context, id string, store PlatformStore) (postgres.Platform, error) {
	now := time.Now()
	pc.mu.Lock()
	c, ok := pc.m[id]
	pc.mu.Unlock()
	if ok && now.Sub(c.at) < pc.ttl {
		return c.p, nil
	}
	p, err := store.Platform(ctx, id)
	if err != nil {
		return postgres.Platform{}, err
	}
	pc.mu.Lock()
	if pc.m == nil {
		pc.m = map[string]cachedPlatform{}
	}
	pc.m[id] = cachedPlatform{p: p, at: now}
	pc.mu.Unlock()
	return p, nil
}

// recentIndex remembers the hashes of the last events this process
// accepted, by platform and event id, so that a retry answers duplicate
// before the engine has recorded the first copy. It holds at most size
// events and forgets the oldest first. Entries are keyed by a 128-bit hash
// of the platform and event id, so the index holds no pointers for the
// garbage collector to scan; two ids share a key with a probability of about
// 2^-128 per pair.
type recentIndex struct {
	size         int
	seed1, seed2 maphash.Seed
	mu           sync.Mutex
	m            map[recentKey][32]byte
	ring         []recentKey
	next         int
}

type recentKey [2]uint64

type recentID struct{ platform, event string }

func (r *recentIndex) key(platformID, eventID string) recentKey {
	id := recentID{platformID, eventID}
	return recentKey{maphash.Comparable(r.seed1, id), maphash.Comparable(r.seed2, id)}
}

func (r *recentIndex) lookup(platformID string, ids []string) map[string][32]byte {
	out := map[string][32]byte{}
	keys := make([]recentKey, len(ids))
	for i, id := range ids {
		keys[i] = r.key(platformID, id)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, k := range keys {
		if h, ok := r.m[k]; ok {
			out[ids[i]] = h
		}
	}
	return out
}

func (r *recentIndex) add(platformID string, items []*ingestItem) {
	if r.size <= 0 || len(items) == 0 {
		return
	}
	keys := make([]recentKey, len(items))
	for i, it := range items {
		keys[i] = r.key(platformID, it.ev.EventID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[recentKey][32]byte, r.size)
		r.ring = make([]recentKey, r.size)
	}
	for i, k := range keys {
		if _, ok := r.m[k]; ok {
			r.m[k] = items[i].hash
			continue
		}
		if old := r.ring[r.next]; old != (recentKey{}) {
			delete(r.m, old)
		}
		r.ring[r.next] = k
		r.m[k] = items[i].hash
		r.next = (r.next + 1) % r.size
	}
}

// itemPrefix is the field-path prefix of event i of a batch: "[3].".
func itemPrefix(i int) string {
	return "[" + strconv.Itoa(i) + "]."
}

// WorkerKeyIndex names the worker keys of a platform's worker references,
// from its registrations: WorkerKeys returns the key of each of refs that
// has one, and leaves out the others. It only reads. The WorkerStore of
// Config.Workers serves it when it has the method (*postgres.DB does).
type WorkerKeyIndex interface {
	WorkerKeys(ctx context.Context, platformID string, refs []string) (map[string]string, error)
}

// Bounds of the worker-key cache.
const (
	workerKeyCacheSize = 1 << 18          // entries, known and unknown references together
	workerKeyKnownTTL  = 10 * time.Minute // a reference's key is looked up again after this
	workerKeyMissTTL   = 30 * time.Second // a reference with no registration is looked up again after this
)

// partitionKeys returns the Kafka key of each item that is to be produced
// (others get nil): the worker key, so that one worker's events from every
// platform are applied in order on one partition. An event that names its
// worker_ref is checked against the worker key of the reference's
// registration, when there is one, found in a bounded cache filled from the
// registrations on a miss (one read per request for all its misses):
//
//   - an event without a worker key (no national ID) is keyed by the
//     registration's worker key;
//   - an event whose national ID is not the registered worker's is rejected
//     (worker_mismatch on national_id): the engine would count it for the
//     registered worker while its key put it on another worker's partition;
//   - otherwise, or when the read fails, the event is keyed by its own
//     worker key, else by platform and worker_ref (feed.PartitionKey).
//
// Only the key changes: the message's value is the event as validated, so a
// retry has the same content whether or not the registration was known.
func (s *Server) partitionKeys(ctx context.Context, platformID string, items []*ingestItem) [][]byte {
	keys := make([][]byte, len(items))
	idx, _ := s.cfg.Workers.(WorkerKeyIndex)
	resolve := func(i int, registered []byte) {
		it := items[i]
		switch {
		case len(registered) == 0:
			keys[i] = feed.PartitionKey(it.ev)
		case it.ev.WorkerKey == "" || it.ev.WorkerKey == string(registered):
			keys[i] = registered
		default:
			it.reject(&gateway.Error{Code: gateway.EINVALID, Message: "invalid earnings event",
				Details: []gateway.Detail{{Field: "national_id", Code: "worker_mismatch",
					Message: "national_id is not that of the worker registered under this worker_ref"}}}, it.prefix)
		}
	}
	var refs []string // references to look up
	var missed []int  // their items
	c := &s.ingest.workerKeys
	now := time.Now()
	c.mu.Lock()
	for i, it := range items {
		if it.answer.Status != "" {
			continue
		}
		if idx == nil || it.ev.WorkerRef == "" {
			keys[i] = feed.PartitionKey(it.ev)
			continue
		}
		if e, ok := c.m[workerRefKey{platformID, it.ev.WorkerRef}]; ok && now.Before(e.until) {
			resolve(i, e.key)
			continue
		}
		missed = append(missed, i)
		refs = append(refs, it.ev.WorkerRef)
	}
	c.mu.Unlock()
	if len(refs) == 0 {
		return keys
	}
	slices.Sort(refs)
	refs = slices.Compact(refs)
	found, err := idx.WorkerKeys(ctx, platformID, refs)
	if err != nil {
		if slot := time.Now().Unix() / 10; s.ingest.keysWarned.Swap(slot) != slot {
			s.log.Warn("look up worker keys; keying events by worker reference meanwhile", "platform", platformID, "err", err)
		}
		for _, i := range missed {
			keys[i] = feed.PartitionKey(items[i].ev)
		}
		return keys
	}
	learnt := c.put(platformID, refs, found, now)
	for _, i := range missed {
		resolve(i, learnt[items[i].ev.WorkerRef])
	}
	return keys
}

// learnWorkerKey tells the cache a reference's worker key, as a
// registration through this process makes it known.
func (s *Server) learnWorkerKey(platformID, ref, key string) {
	s.ingest.workerKeys.put(platformID, []string{ref}, map[string]string{ref: key}, time.Now())
}

// workerKeyCache maps (platform, worker_ref) to a worker key, or to none
// for a reference with no registration, for a while. It holds at most size
// entries: when full, it is emptied and fills again from the misses.
type workerKeyCache struct {
	size int
	mu   sync.Mutex
	m    map[workerRefKey]workerKeyEntry
}

type workerRefKey struct{ platform, ref string }

type workerKeyEntry struct {
	key   []byte // the Kafka key, shared and never changed; nil for a reference with no registration
	until time.Time
}

func (c *workerKeyCache) put(platformID string, refs []string, found map[string]string, now time.Time) map[string][]byte {
	learnt := make(map[string][]byte, len(refs))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m)+len(refs) > c.size {
		c.m = make(map[workerRefKey]workerKeyEntry, min(c.size, 1<<12))
	}
	for _, r := range refs {
		e := workerKeyEntry{until: now.Add(workerKeyKnownTTL)}
		if k := found[r]; k != "" {
			e.key = []byte(k)
		} else {
			e.until = now.Add(workerKeyMissTTL)
		}
		c.m[workerRefKey{platformID, r}] = e
		learnt[r] = e.key
	}
	return learnt
}
