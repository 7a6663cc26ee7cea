package workers

import (
	"reflect"
	"testing"

	"http_server/protocol"
)

// Invariant 1: a worker cannot reach a socket. What a handler receives, a
// request and a batch to fill, holds no connection, descriptor or I/O
// object, only bytes and numbers (a FileSegment is a file the worker opened).
func TestHandlerSeesNoSocket(t *testing.T) {
	ht := reflect.TypeOf((*Handler)(nil)).Elem()
	for i := 0; i < ht.NumMethod(); i++ {
		m := ht.Method(i)
		for k := 0; k < m.Type.NumIn(); k++ {
			checkNoSocket(t, m.Name, m.Type.In(k), map[reflect.Type]bool{})
		}
	}
}

func checkNoSocket(t *testing.T, where string, ty reflect.Type, seen map[reflect.Type]bool) {
	if seen[ty] {
		return
	}
	seen[ty] = true
	switch ty.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		checkNoSocket(t, where, ty.Elem(), seen)
	case reflect.Struct:
		if ty == reflect.TypeOf(protocol.FileSegment{}) {
			return
		}
		if ty.PkgPath() != "http_server/protocol" {
			t.Errorf("%s: handler argument holds %v from outside the protocol package", where, ty)
			return
		}
		for i := 0; i < ty.NumField(); i++ {
			checkNoSocket(t, where+"."+ty.Field(i).Name, ty.Field(i).Type, seen)
		}
	case reflect.Interface, reflect.Func, reflect.Chan, reflect.Map, reflect.UnsafePointer, reflect.Uintptr:
		t.Errorf("%s: handler argument holds a %v, which could carry a connection", where, ty)
	}
}
