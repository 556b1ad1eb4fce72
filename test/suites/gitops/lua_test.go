package gitops

import (
	"encoding/json"
	"fmt"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// newSandbox is a Lua state like the one Argo CD runs resource
// customizations from argocd-cm in (util/lua/lua.go, without useOpenLibs):
// only the package, base and table libraries, and an os module with time and
// date alone that scripts get through require("os"). There is no string or
// math library and no global os, so a script that needs them fails here as
// it would in Argo CD.
func newSandbox() *lua.LState {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, lua.OpenOs},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	full := L.GetGlobal(lua.OsLibName).(*lua.LTable)
	safe := map[string]lua.LGFunction{}
	for _, name := range []string{"time", "date"} {
		safe[name] = full.RawGetString(name).(*lua.LFunction).GFunction
	}
	L.SetGlobal(lua.OsLibName, lua.LNil)
	L.PreloadModule(lua.OsLibName, func(L *lua.LState) int {
		L.Push(L.SetFuncs(L.NewTable(), safe))
		return 1
	})
	return L
}

// runLua runs script with obj as the global obj, as Argo CD does, and
// returns the table it returns.
func runLua(t *testing.T, script string, obj *unstructured.Unstructured) *lua.LTable {
	t.Helper()
	L := newSandbox()
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj.Object))
	if err := L.DoString(script); err != nil {
		t.Fatalf("run script: %v", err)
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the script returned %s, not a table", L.Get(-1).Type())
	}
	return ret
}

// toLua converts a JSON value to Lua the way Argo CD does: objects and
// arrays become tables, numbers become numbers.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case []any:
		tbl := L.NewTable()
		for _, e := range v {
			tbl.Append(toLua(L, e))
		}
		return tbl
	case map[string]any:
		tbl := L.NewTable()
		for k, e := range v {
			tbl.RawSetString(k, toLua(L, e))
		}
		return tbl
	}
	panic(fmt.Sprintf("unexpected JSON value %T", v))
}

// fromLua converts a Lua value back to JSON the way Argo CD does: a table
// with array elements is an array, any other table an object.
func fromLua(v lua.LValue) any {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		return bool(v)
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return float64(v)
	case *lua.LTable:
		if v.MaxN() > 0 {
			arr := []any{}
			for i := 1; i <= v.MaxN(); i++ {
				arr = append(arr, fromLua(v.RawGetInt(i)))
			}
			return arr
		}
		obj := map[string]any{}
		v.ForEach(func(k, e lua.LValue) { obj[k.String()] = fromLua(e) })
		return obj
	}
	panic(fmt.Sprintf("unexpected Lua value %s", v.Type()))
}

// toUnstructured is obj as its JSON, the form Argo CD and kstatus read.
func toUnstructured(t *testing.T, obj any) *unstructured.Unstructured {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	return u
}

// normalized is v through JSON with every number a float64, so that values
// that went through Lua compare equal to values that did not.
func normalized(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
