package shard

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// fakeServer ignores the shard selector, as an API server without the gate
// does, and records the options of every request.
type fakeServer struct {
	objects []corev1.ConfigMap
	watcher *watch.FakeWatcher
	opts    []metav1.ListOptions
}

func (s *fakeServer) listWatch() *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(_ context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			s.opts = append(s.opts, opts)
			return &corev1.ConfigMapList{
				ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "next-page"},
				Items:    append([]corev1.ConfigMap(nil), s.objects...),
			}, nil
		},
		WatchFuncWithContext: func(_ context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			s.opts = append(s.opts, opts)
			return s.watcher, nil
		},
		DisableChunking: true,
	}
}

// configMaps makes n ConfigMaps and sorts their names by whether r holds
// their UID's hash. The UIDs differ in their first bytes: FNV-1a mixes the
// last bytes of its input into the top bits of the hash hardly at all.
func configMaps(n int, r Range) (all []corev1.ConfigMap, in, out []string) {
	for i := range n {
		cm := corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("cm-%d", i),
			UID:  types.UID(fmt.Sprintf("%08x-4c2d-4e5f-8a9b-0b6f1e3a4c2d", i)),
		}}
		all = append(all, cm)
		if r.Contains(Hash(cm.UID)) {
			in = append(in, cm.Name)
		} else {
			out = append(out, cm.Name)
		}
	}
	return all, in, out
}

func TestRestrictFiltersListsAndAsksForTheRange(t *testing.T) {
	r := Split(2)[1]
	all, in, out := configMaps(20, r)
	if len(in) == 0 || len(out) == 0 {
		t.Fatalf("want ConfigMaps on both sides of %v, got %d in and %d out", r, len(in), len(out))
	}
	server := &fakeServer{objects: all}
	calls := 0
	lw := Restrict(server.listWatch(), r, func() { calls++ })
	if !lw.DisableChunking {
		t.Error("Restrict dropped DisableChunking")
	}

	asked := metav1.ListOptions{ResourceVersion: "7", Continue: "page-2", Limit: 500}
	obj, err := lw.ListWithContext(context.Background(), asked)
	if err != nil {
		t.Fatal(err)
	}
	list := obj.(*corev1.ConfigMapList)
	var got []string
	for _, cm := range list.Items {
		got = append(got, cm.Name)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("list holds %v, want those in %v: %v", got, r, in)
	}
	if list.ResourceVersion != "42" || list.Continue != "next-page" {
		t.Errorf("list metadata = %+v, want the server's resourceVersion and continue", list.ListMeta)
	}
	asked.ShardSelector = r.Selector()
	if !reflect.DeepEqual(server.opts, []metav1.ListOptions{asked}) {
		t.Errorf("server was asked %+v, want %+v", server.opts, asked)
	}

	if _, err := lw.ListWithContext(context.Background(), metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("unhonoured called %d times over two lists with objects outside the range, want once", calls)
	}
}

func TestRestrictFiltersWatchEvents(t *testing.T) {
	r := Split(2)[0]
	all, in, _ := configMaps(20, r)
	server := &fakeServer{watcher: watch.NewFakeWithChanSize(100, false)}
	calls := 0
	lw := Restrict(server.listWatch(), r, func() { calls++ })

	asked := metav1.ListOptions{ResourceVersion: "42", AllowWatchBookmarks: true}
	w, err := lw.WatchWithContext(context.Background(), asked)
	if err != nil {
		t.Fatal(err)
	}
	asked.ShardSelector = r.Selector()
	if !reflect.DeepEqual(server.opts, []metav1.ListOptions{asked}) {
		t.Errorf("server was asked %+v, want %+v", server.opts, asked)
	}

	var want []string
	for i := range all {
		cm := &all[i]
		server.watcher.Add(cm)
		server.watcher.Modify(cm)
		server.watcher.Delete(cm)
	}
	for _, name := range in {
		want = append(want, "ADDED "+name, "MODIFIED "+name, "DELETED "+name)
	}
	// Bookmarks and errors carry no object of the range's, and must pass.
	server.watcher.Action(watch.Bookmark, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "43"}})
	server.watcher.Error(&metav1.Status{Message: "gone"})
	want = append(want, "BOOKMARK ", "ERROR ")
	server.watcher.Stop()

	var got []string
	for e := range w.ResultChan() {
		name := ""
		if cm, ok := e.Object.(*corev1.ConfigMap); ok && e.Type != watch.Bookmark {
			name = cm.Name
		}
		got = append(got, string(e.Type)+" "+name)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("watch passed %q, want %q", got, want)
	}
	if calls != 1 {
		t.Errorf("unhonoured called %d times, want once", calls)
	}
}

// TestRestrictWithoutUnhonoured: with no one to tell, Restrict still drops
// what the server sends from outside the range, from lists and watches.
func TestRestrictWithoutUnhonoured(t *testing.T) {
	r := Split(2)[0]
	all, in, out := configMaps(20, r)
	if len(in) == 0 || len(out) == 0 {
		t.Fatalf("want ConfigMaps on both sides of %v, got %d in and %d out", r, len(in), len(out))
	}
	server := &fakeServer{objects: all, watcher: watch.NewFakeWithChanSize(len(all), false)}
	lw := Restrict(server.listWatch(), r, nil)

	obj, err := lw.ListWithContext(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, cm := range obj.(*corev1.ConfigMapList).Items {
		listed = append(listed, cm.Name)
	}
	if !reflect.DeepEqual(listed, in) {
		t.Errorf("list holds %v, want only those in %v: %v", listed, r, in)
	}

	w, err := lw.WatchWithContext(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		server.watcher.Add(&all[i])
	}
	server.watcher.Stop()
	var watched []string
	for e := range w.ResultChan() {
		watched = append(watched, e.Object.(*corev1.ConfigMap).Name)
	}
	if !reflect.DeepEqual(watched, in) {
		t.Errorf("watch passed %v, want only those in %v: %v", watched, r, in)
	}
}
