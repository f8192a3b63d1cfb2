package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/chatpay/chatpay/orders"
)

// shopKey is the gin context key holding the authenticated shop's ID.
const shopKey = "chatpay.shop"

// authenticate resolves the bearer API key to a shop, or answers 401.
func (s *Server) authenticate(c *gin.Context) {
	shopID, ok := s.lookupKey(bearerToken(c.GetHeader("Authorization")))
	if !ok {
		s.apiError(c, orders.Errorf(orders.EUNAUTHORIZED, "Send a valid API key as \"Authorization: Bearer <key>\"."), http.StatusBadRequest)
		return
	}
	c.Set(shopKey, shopID)
	c.Next()
}

// bearerToken returns the credentials of an "Authorization: Bearer <key>" header.
func bearerToken(h string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// lookupKey finds the shop of an API key. It compares the key's SHA-256 with every
// configured key's in constant time and never stops early, so the time taken says
// nothing about which key, or how much of one, matched.
func (s *Server) lookupKey(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(key))
	shopID, found := "", 0
	for i := range s.keys {
		match := subtle.ConstantTimeCompare(sum[:], s.keys[i].hash[:])
		if match == 1 {
			shopID = s.keys[i].shopID
		}
		found |= match
	}
	return shopID, found == 1
}

func shopID(c *gin.Context) string { return c.GetString(shopKey) }

// orderID returns the :id parameter. IDs are UUIDs; anything else cannot name an
// order, so it is not found without asking the store (which may reject the syntax).
func (s *Server) orderID(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		s.apiError(c, orders.Errorf(orders.ENOTFOUND, "Order not found."), http.StatusBadRequest)
		return "", false
	}
	return id, true
}

// respondOrder answers with an order's JSON.
func (s *Server) respondOrder(c *gin.Context, status int, o *orders.Order) {
	v, err := s.orderJSON(o)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	c.JSON(status, v)
}

func (s *Server) createOrder(c *gin.Context) {
	body, err := readBody(c.Writer, c.Request)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	in, err := decodeCreateOrder(body)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	o, err := s.svc.CreateOrder(c.Request.Context(), shopID(c), in)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	s.respondOrder(c, http.StatusCreated, o)
}

func (s *Server) getOrder(c *gin.Context) {
	id, ok := s.orderID(c)
	if !ok {
		return
	}
	o, err := s.svc.Order(c.Request.Context(), shopID(c), id)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	s.respondOrder(c, http.StatusOK, o)
}

// List limits: the page size when none is asked for, and the largest allowed.
const (
	defaultListLimit = 20
	maxListLimit     = 100
)

// parseLimit reads the limit query parameter.
func parseLimit(c *gin.Context, def int) (int, error) {
	raw, ok := c.GetQuery("limit")
	if !ok || raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxListLimit {
		return 0, orders.Invalidf("limit", "must be an integer between 1 and %d, not %q", maxListLimit, raw)
	}
	return n, nil
}

// parseMetadataFilter reads metadata[KEY]=VALUE query parameters. It parses them
// itself rather than with gin's QueryMap, which silently drops a malformed name
// (metadata[]=x, metadata[a]b=x) and all but the first of repeated values: a filter
// that is quietly ignored returns orders the caller did not ask for. The keys
// themselves are checked by the Service, which knows the metadata key rules.
func parseMetadataFilter(q url.Values) (map[string]string, error) {
	var m map[string]string
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if name != "metadata" && !strings.HasPrefix(name, "metadata[") {
			continue
		}
		key, ok := strings.CutSuffix(strings.TrimPrefix(name, "metadata["), "]")
		if !ok {
			return nil, orders.Invalidf(name, "filter by metadata with metadata[KEY]=VALUE")
		}
		if vs := q[name]; len(vs) != 1 {
			return nil, orders.Invalidf(name, "must be given once, got %d values", len(vs))
		}
		if m == nil {
			m = map[string]string{}
		}
		m[key] = q.Get(name)
	}
	return m, nil
}

// Cursors are opaque to clients: the base64url of the last order ID of the page.
func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(cur string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(cur)
	if err == nil {
		if _, perr := uuid.Parse(string(b)); perr == nil && len(b) == 36 {
			return string(b), nil
		}
	}
	return "", orders.Invalidf("cursor", "is not a cursor this API returned; pass next_cursor from the previous page")
}

type listOrdersResponse struct {
	Orders     []orderJSON `json:"orders"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

func (s *Server) listOrders(c *gin.Context) {
	limit, err := parseLimit(c, defaultListLimit)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	f, err := parseOrderFilter(c.Request.URL.Query(), toExclusive)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	page, next, err := s.listPage(c.Request.Context(), shopID(c), f, limit)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	resp := listOrdersResponse{Orders: make([]orderJSON, 0, len(page)), NextCursor: next}
	for _, o := range page {
		v, err := s.orderJSON(o)
		if err != nil {
			s.apiError(c, err, http.StatusBadRequest)
			return
		}
		resp.Orders = append(resp.Orders, v)
	}
	c.JSON(http.StatusOK, resp)
}

// orderAction runs a service call that changes an order and answers with the order.
func (s *Server) orderAction(c *gin.Context, fn func(shopID, id string) (*orders.Order, error)) {
	id, ok := s.orderID(c)
	if !ok {
		return
	}
	o, err := fn(shopID(c), id)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	s.respondOrder(c, http.StatusOK, o)
}

func (s *Server) cancelOrder(c *gin.Context) {
	s.orderAction(c, func(shopID, id string) (*orders.Order, error) {
		return s.svc.CancelOrder(c.Request.Context(), shopID, id)
	})
}

func (s *Server) completeOrder(c *gin.Context) {
	s.orderAction(c, func(shopID, id string) (*orders.Order, error) {
		return s.svc.CompleteOrder(c.Request.Context(), shopID, id)
	})
}

func (s *Server) deleteOrder(c *gin.Context) {
	s.orderAction(c, func(shopID, id string) (*orders.Order, error) {
		return s.svc.DeleteOrder(c.Request.Context(), shopID, id)
	})
}

func (s *Server) resendLink(c *gin.Context) {
	id, ok := s.orderID(c)
	if !ok {
		return
	}
	if err := s.svc.ResendLink(c.Request.Context(), shopID(c), id); err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"queued": true})
}

func (s *Server) createShipment(c *gin.Context) {
	id, ok := s.orderID(c)
	if !ok {
		return
	}
	var req shipmentRequest
	body, err := readBody(c.Writer, c.Request)
	if err == nil {
		err = decodeJSON(body, &req, "", false)
	}
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	sh, err := s.svc.CreateShipment(c.Request.Context(), shopID(c), id, req.Carrier, req.TrackingNumber)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	c.JSON(http.StatusCreated, newShipmentJSON(sh))
}

func (s *Server) createRefund(c *gin.Context) {
	id, ok := s.orderID(c)
	if !ok {
		return
	}
	var req refundRequest
	body, err := readBody(c.Writer, c.Request)
	if err == nil {
		err = decodeJSON(body, &req, "", true)
	}
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest) // malformed JSON is a bad request
		return
	}
	r, err := s.svc.CreateRefund(c.Request.Context(), shopID(c), id, req.Amount)
	if err != nil {
		// A well-formed refund the order cannot take (past the refundable amount) is
		// 422, as the API promises.
		s.apiError(c, err, http.StatusUnprocessableEntity)
		return
	}
	c.JSON(http.StatusCreated, newRefundJSON(r))
}

func (s *Server) listRefunds(c *gin.Context) {
	id, ok := s.orderID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if _, err := s.svc.Order(ctx, shopID(c), id); err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	refunds, err := s.svc.Store().OrderRefunds(ctx, shopID(c), id)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	out := make([]refundJSON, 0, len(refunds))
	for _, r := range refunds {
		out = append(out, newRefundJSON(r))
	}
	c.JSON(http.StatusOK, gin.H{"refunds": out})
}

func (s *Server) listMessages(c *gin.Context) {
	id, ok := s.orderID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if _, err := s.svc.Order(ctx, shopID(c), id); err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	msgs, err := s.svc.Store().OrderMessages(ctx, shopID(c), id)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	out := make([]messageJSON, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, newMessageJSON(m))
	}
	c.JSON(http.StatusOK, gin.H{"messages": out})
}

func (s *Server) listNotices(c *gin.Context) {
	limit, err := parseLimit(c, 50)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	notices, err := s.svc.Store().Notices(c.Request.Context(), shopID(c), limit)
	if err != nil {
		s.apiError(c, err, http.StatusBadRequest)
		return
	}
	out := make([]noticeJSON, 0, len(notices))
	for _, n := range notices {
		out = append(out, newNoticeJSON(n))
	}
	c.JSON(http.StatusOK, gin.H{"notices": out})
}
