package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chatpay/chatpay/orders"
)

// DefaultPrefix is put before the Redis channel's name when Options.Prefix is empty.
const DefaultPrefix = "chatpay:live:"

const (
	// sendQueue is how many changes may wait to be sent to Redis. Publish never
	// waits for Redis: a request that committed a change answers its caller (a
	// gateway's webhook, a customer's page) whether Redis is quick, slow or down.
	// Past this many waiting, changes are dropped and the drop is logged.
	sendQueue = 4096
	// sendBatch is how many queued changes go to Redis in one pipelined round trip.
	sendBatch = 128
	// sendTimeout bounds one round trip to Redis.
	sendTimeout = 5 * time.Second
	// logEvery spaces out repeated warnings about the same trouble (Redis down, a
	// full queue), which would otherwise come once per change.
	logEvery = 30 * time.Second
)

// redisLink carries changes between replicas over one Redis pub/sub channel. Each
// process has one subscription, whatever the number of browsers watching, and fans
// what arrives out in-process. Every message names the hub that sent it (origin):
// a hub delivers its own changes to its subscribers directly when they are
// published, and skips them when Redis echoes them back.
type redisLink struct {
	hub     *Hub
	client  goredis.UniversalClient
	channel string
	origin  string

	queue chan orders.Change
	quit  chan struct{} // closed by close: the sender flushes and stops
	ps    *goredis.PubSub
	wg    sync.WaitGroup
	once  sync.Once

	sendWarn, queueWarn, decodeWarn throttle
}

// NewRedisHub returns a Hub that also exchanges changes with the other replicas
// through Redis pub/sub on client, under o.Prefix. It subscribes before it returns,
// so that a change published on another replica afterwards reaches this one, and
// fails when Redis does not confirm the subscription before ctx ends. Later, when
// the connection drops, go-redis reconnects and subscribes again on its own; local
// subscribers keep their channels throughout, and changes sent while the connection
// was down are lost (logged when it comes back). The client stays the caller's.
func NewRedisHub(ctx context.Context, client goredis.UniversalClient, o Options) (*Hub, error) {
	h := NewHub(o)
	prefix := o.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails.
	l := &redisLink{
		hub:     h,
		client:  client,
		channel: prefix + "changes",
		origin:  hex.EncodeToString(id[:]),
		queue:   make(chan orders.Change, sendQueue),
		quit:    make(chan struct{}),
	}
	l.ps = client.Subscribe(ctx, l.channel)
	// The first answer on a pub/sub connection is the subscription's confirmation, or
	// the error that kept it from happening.
	msg, err := l.ps.Receive(ctx)
	if err == nil {
		if _, ok := msg.(*goredis.Subscription); !ok {
			err = fmt.Errorf("unexpected %T before the subscription's confirmation", msg)
		}
	}
	if err != nil {
		_ = l.ps.Close()
		return nil, fmt.Errorf("live: subscribe to redis channel %s: %w", l.channel, err)
	}
	h.redis = l
	l.wg.Add(2)
	go l.listen()
	go l.sendLoop()
	return h, nil
}

// send queues c for the other replicas, dropping it when the queue is full.
func (l *redisLink) send(c orders.Change) {
	select {
	case <-l.quit:
		return // closed: nothing sends any more
	default:
	}
	select {
	case l.queue <- c:
	default:
		l.queueWarn.do(func(suppressed int) {
			l.hub.log.Warn("live: the queue to redis is full; changes are dropped and other replicas' screens go stale until the next one",
				"channel", l.channel, "dropped", suppressed+1)
		})
	}
}

// sendLoop publishes queued changes, a batch per round trip, until quit; then it
// sends what is left, as long as close's ctx allows.
func (l *redisLink) sendLoop() {
	defer l.wg.Done()
	batch := make([]orders.Change, 0, sendBatch)
	for {
		select {
		case c := <-l.queue:
			batch = l.fill(append(batch[:0], c))
			ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
			l.publish(ctx, batch)
			cancel()
		case <-l.quit:
			return
		}
	}
}

// fill adds to batch what is waiting in the queue, up to sendBatch.
func (l *redisLink) fill(batch []orders.Change) []orders.Change {
	for len(batch) < sendBatch {
		select {
		case c := <-l.queue:
			batch = append(batch, c)
		default:
			return batch
		}
	}
	return batch
}

// publish sends batch to Redis in one pipeline. A failure is logged, never returned:
// the changes are committed, and the other replicas' viewers catch up on the next.
func (l *redisLink) publish(ctx context.Context, batch []orders.Change) {
	_, err := l.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, c := range batch {
			p.Publish(ctx, l.channel, encode(l.origin, c))
		}
		return nil
	})
	if err != nil {
		l.sendWarn.do(func(suppressed int) {
			l.hub.log.Warn("live: publishing changes to redis failed; other replicas' screens go stale until it works again",
				"channel", l.channel, "err", err, "changes", len(batch), "earlier_failures", suppressed)
		})
	}
}

// listen delivers the changes other replicas send until the subscription is closed.
// go-redis pings the connection and, when it breaks, reconnects and subscribes again
// in the background; each new confirmation after the first means a gap.
func (l *redisLink) listen() {
	defer l.wg.Done()
	for msg := range l.ps.ChannelWithSubscriptions(goredis.WithChannelSize(256)) {
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" {
				l.hub.log.Info("live: redis subscription restored; changes other replicas published while it was down were missed",
					"channel", l.channel)
			}
		case *goredis.Message:
			origin, c, err := decode([]byte(m.Payload))
			if err != nil {
				l.decodeWarn.do(func(suppressed int) {
					l.hub.log.Warn("live: ignoring a malformed message on the redis channel", "channel", l.channel,
						"err", err, "earlier", suppressed)
				})
				continue
			}
			if origin != l.origin {
				l.hub.deliver(c)
			}
		}
	}
}

// close stops the link: the sender flushes the queue (until ctx is done), then the
// subscription is closed, which ends listen.
func (l *redisLink) close(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		close(l.quit)
		// sendLoop may be mid round trip; what it has not taken yet is flushed here.
		flushed := make(chan struct{})
		go func() {
			defer close(flushed)
			for {
				batch := l.fill(make([]orders.Change, 0, sendBatch))
				if len(batch) == 0 || ctx.Err() != nil {
					return
				}
				l.publish(ctx, batch)
			}
		}()
		select {
		case <-flushed:
		case <-ctx.Done():
			err = fmt.Errorf("live: changes still queued for redis at shutdown: %w", ctx.Err())
		}
		if cerr := l.ps.Close(); cerr != nil && !errors.Is(cerr, goredis.ErrClosed) {
			err = errors.Join(err, cerr)
		}
		l.wg.Wait()
	})
	return err
}

// envelope is a change as it travels through Redis.
type envelope struct {
	// Origin is the hub that published the change.
	Origin string        `json:"origin"`
	Change orders.Change `json:"change"`
}

// maxMessage bounds a message read from Redis; a change is four identifiers.
const maxMessage = 4 << 10

// maxField bounds each identifier of a change read from Redis.
const maxField = 200

func encode(origin string, c orders.Change) []byte {
	b, err := json.Marshal(envelope{Origin: origin, Change: c})
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return b
}

// decode reads a message from the Redis channel. Anyone who can reach Redis can
// write there, so it checks what a subscriber relies on: a kind and a shop, and
// identifiers of sane length. Fields it does not know are ignored, so that replicas
// of different versions can run side by side during a rollout.
func decode(b []byte) (origin string, c orders.Change, err error) {
	if len(b) > maxMessage {
		return "", c, fmt.Errorf("message of %d bytes is over %d", len(b), maxMessage)
	}
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return "", c, err
	}
	c = e.Change
	switch {
	case c.Kind == "":
		return "", c, errors.New("change.kind is missing")
	case c.Shop == "":
		return "", c, errors.New("change.shop is missing")
	}
	for name, v := range map[string]string{"origin": e.Origin, "change.kind": c.Kind, "change.shop": c.Shop,
		"change.order": c.Order, "change.conversation": c.Conversation} {
		if len(v) > maxField {
			return "", c, fmt.Errorf("%s is over %d bytes", name, maxField)
		}
	}
	return e.Origin, c, nil
}

// throttle runs a warning at most once per logEvery, telling it how many it
// suppressed since the last one.
type throttle struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (t *throttle) do(warn func(suppressed int)) {
	t.mu.Lock()
	if !t.last.IsZero() && time.Since(t.last) < logEvery {
		t.suppressed++
		t.mu.Unlock()
		return
	}
	n := t.suppressed
	t.last, t.suppressed = time.Now(), 0
	t.mu.Unlock()
	warn(n)
}

var _ orders.ChangePublisher = (*Hub)(nil)
