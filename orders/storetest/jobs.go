package storetest

import (
	"encoding/json"
	"fmt"

	"github.com/chatpay/chatpay/orders"
)

// DecodeJob turns a stored River job (its kind and JSON args) back into the concrete
// orders.* value it was inserted from, for Harness.Jobs implementations.
func DecodeJob(kind string, args []byte) (orders.Job, error) {
	switch kind {
	case orders.DeliverMessage{}.Kind():
		return decode[orders.DeliverMessage](args)
	case orders.DeliverNotice{}.Kind():
		return decode[orders.DeliverNotice](args)
	case orders.ProcessRefund{}.Kind():
		return decode[orders.ProcessRefund](args)
	case orders.ReconcileAttempts{}.Kind():
		return decode[orders.ReconcileAttempts](args)
	case orders.RefreshCard{}.Kind():
		return decode[orders.RefreshCard](args)
	case orders.ProcessChatUpdate{}.Kind():
		return decode[orders.ProcessChatUpdate](args)
	case orders.ProcessCapture{}.Kind():
		return decode[orders.ProcessCapture](args)
	case orders.ExpireSessions{}.Kind():
		return decode[orders.ExpireSessions](args)
	case orders.ProcessVoid{}.Kind():
		return decode[orders.ProcessVoid](args)
	}
	return nil, fmt.Errorf("storetest: unknown job kind %q", kind)
}

func decode[T orders.Job](args []byte) (orders.Job, error) {
	var v T
	if err := json.Unmarshal(args, &v); err != nil {
		return nil, fmt.Errorf("storetest: decode %s args %s: %w", v.Kind(), args, err)
	}
	return v, nil
}
