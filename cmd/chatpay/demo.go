package main

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
)

// demoOwnerEmail is the demo shop owner's account. It has a random password nobody is
// told: the owner signs in with the one-time link printed at each start.
const demoOwnerEmail = "owner@demo.example"

// demoSignInLink makes sure the demo shop has its owner and returns a fresh one-time
// sign-in link that leads to /demo. Only the default configuration calls it, so the
// demo owner never exists next to real shops.
func (m *Main) demoSignInLink(ctx context.Context, a *auth.Service, shopID string) (string, error) {
	u, err := a.UserByEmail(ctx, shopID, demoOwnerEmail)
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		password, perr := randomString(24, base64.RawURLEncoding)
		if perr != nil {
			return "", perr
		}
		u, err = a.AddUser(ctx, shopID, demoOwnerEmail, auth.RoleOwner, password)
		if orders.ErrorCode(err) == orders.ECONFLICT {
			// Another replica made the owner first.
			u, err = a.UserByEmail(ctx, shopID, demoOwnerEmail)
		}
	}
	if err != nil {
		return "", fmt.Errorf("demo owner: %w", err)
	}
	token, err := a.IssueSignInLink(ctx, u, 0)
	if err != nil {
		return "", fmt.Errorf("demo sign-in link: %w", err)
	}
	return m.Config.HTTP.PublicURL + "/demo/start?token=" + token, nil
}
