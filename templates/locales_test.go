package templates

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// embeddedCopy copies the embedded files into a MapFS the test may change.
func embeddedCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	require.NoError(t, err)
	return m
}

// TestLocaleKeysMustMatch checks that New fails, naming the locale and the key, when
// one locale file misses a key or has one too many, in every section that is checked.
func TestLocaleKeysMustMatch(t *testing.T) {
	t.Parallel()
	_, err := newTemplates(embeddedCopy(t), true)
	require.NoError(t, err, "the unchanged copy parses")

	for _, tc := range []struct {
		name, code, old, new, wantErr string
	}{
		{"missing chat key", "th", "  not_in_topic: |", "  not_in_topic_x: |", "locales/th.yaml: chat.not_in_topic is missing"},
		{"extra chat key", "fa", "  help: |", "  help_x: \"x\"\n  help: |", "locales/fa.yaml: chat.help_x is not a known key"},
		{"missing message key", "vi", "  shipped: |", "  shipped_x: |", "locales/vi.yaml: messages.shipped is missing"},
		{"missing page string", "fa", "  footer: ", "  footer_x: ", "locales/fa.yaml: page.footer is missing"},
		{"chat section gone", "th", "\nchat:\n", "\nchat_x:\n", "locales/th.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := embeddedCopy(t)
			p := "locales/" + tc.code + ".yaml"
			src := string(m[p].Data)
			require.Equal(t, 1, strings.Count(src, tc.old), "the test edits exactly one place")
			m[p] = &fstest.MapFile{Data: []byte(strings.Replace(src, tc.old, tc.new, 1))}
			_, err := newTemplates(m, true)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

// TestChatTemplateErrors checks that a chat text that does not parse, or that uses a
// field ChatView lacks, is caught: the first by New, the second when rendering.
func TestChatTemplateErrors(t *testing.T) {
	t.Parallel()
	m := embeddedCopy(t)
	src := string(m["locales/en.yaml"].Data)
	m["locales/en.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(src,
		"Commands work in a customer's topic", "Commands {{if}} work", 1))}
	_, err := newTemplates(m, true)
	require.ErrorContains(t, err, "chat.not_in_topic")

	m = embeddedCopy(t)
	m["locales/en.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(src,
		"Commands work in a customer's topic", "{{.ShopName}}", 1))}
	tpl, err := newTemplates(m, true)
	require.NoError(t, err)
	_, err = tpl.Chat("not_in_topic", ChatView{})
	require.ErrorContains(t, err, "ShopName")
}
