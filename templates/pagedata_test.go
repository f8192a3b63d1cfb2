package templates

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPageDataCopiesEveryField fills every field of a PageView with a distinct value
// and checks that pageData has a field of the same name, type and value, so that a
// field added to PageView cannot silently go missing from the pages.
func TestPageDataCopiesEveryField(t *testing.T) {
	t.Parallel()
	var p PageView
	pv := reflect.ValueOf(&p).Elem()
	for i := range pv.NumField() {
		f := pv.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(fmt.Sprintf("value %d", i))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), i+1, i+1))
		default:
			t.Fatalf("PageView.%s: teach this test the kind %s", pv.Type().Field(i).Name, f.Kind())
		}
	}
	d := reflect.ValueOf(newPageData(&p))
	for i := range pv.NumField() {
		name := pv.Type().Field(i).Name
		got := d.FieldByName(name)
		require.True(t, got.IsValid(), "pageData has no field %s", name)
		require.Equal(t, pv.Field(i).Interface(), got.Interface(), "pageData.%s", name)
	}
}
