package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/configs"
	"github.com/chatpay/chatpay/orders"
)

// RunUser runs `chatpay user SUBCOMMAND`. The only subcommand so far:
//
//	chatpay user add --shop ID --email E [--role owner|staff] [--config FILE]
//
// adds a dashboard user. The password is read from stdin when stdin is not a terminal
// (`printf %s "$PW" | chatpay user add ...`), so that it never appears in the process
// list or shell history; on a terminal (or with stdin nil) a strong one is generated
// and printed once.
func RunUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) (string, bool)) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: chatpay user add --shop ID --email E [--role owner|staff] [--config FILE]")
	}
	fs := flag.NewFlagSet("chatpay user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML config file overlaid on the embedded default (or CHATPAY_CONFIG)")
	shopID := fs.String("shop", "", "the shop's id, as in the config's shops")
	email := fs.String("email", "", "the user's email, which they sign in with")
	roleName := fs.String("role", string(auth.RoleOwner), "owner or staff")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("user add: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := configs.Load(*configPath, env)
	if err != nil {
		return err
	}
	if *shopID == "" {
		return errors.New("user add: --shop is required")
	}
	if !hasShop(cfg, *shopID) {
		return fmt.Errorf("user add: unknown shop %q (configured: %s)", *shopID, shopIDs(cfg))
	}
	// The email and role are checked before the password is asked for or generated,
	// so that a typo does not cost a password.
	if _, err := auth.NormalizeEmail(*email); err != nil {
		return fmt.Errorf("user add: --email: %s", orders.ErrorMessage(err))
	}
	role, err := auth.ParseRole(*roleName)
	if err != nil {
		return fmt.Errorf("user add: --role: %s", orders.ErrorMessage(err))
	}

	password, generated := "", false
	if stdin == nil || isTerminal(stdin) {
		password, generated = auth.GeneratePassword(), true
	} else if password, err = readPassword(stdin); err != nil {
		return fmt.Errorf("user add: %w", err)
	}

	m := NewMain(cfg)
	m.Logger = newLogger(cfg, stderr)
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	as, ok := st.(auth.Store)
	if !ok {
		return fmt.Errorf("user add: the store %T keeps no users", st)
	}
	svc, err := auth.NewService(auth.Config{Store: as, Logger: m.Logger})
	if err != nil {
		return err
	}
	u, err := svc.AddUser(ctx, *shopID, *email, role, password)
	if err != nil {
		if code := orders.ErrorCode(err); code != orders.EINTERNAL {
			return fmt.Errorf("user add: %s", orders.ErrorMessage(err))
		}
		return err
	}
	fmt.Fprintf(stdout, "Added %s %s to shop %s.\n", u.Role, u.Email, u.ShopID)
	if generated {
		fmt.Fprintf(stdout, "Password (shown only now): %s\n", password)
	}
	return nil
}

func hasShop(cfg *configs.Config, id string) bool {
	for _, sh := range cfg.Shops {
		if sh.ID == id {
			return true
		}
	}
	return false
}

func shopIDs(cfg *configs.Config) string {
	ids := make([]string, 0, len(cfg.Shops))
	for _, sh := range cfg.Shops {
		ids = append(ids, sh.ID)
	}
	return strings.Join(ids, ", ")
}

// isTerminal reports whether r is a character device, i.e. someone typing.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// readPassword reads the first line of r, without its line ending. Only the line
// ending is removed: spaces may be part of a passphrase.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4*auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on stdin (pipe one in, or run on a terminal to generate one)")
	}
	return line, nil
}
