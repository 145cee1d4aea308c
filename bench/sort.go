package bench

import (
	"cmp"
	"slices"
	"sort"
)

func sortByPoint(order []int, points []int64) {
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(points[a], points[b]) })
}

func sortInt64(s []int64) { slices.Sort(s) }

// upper returns the number of elements of sorted s that are <= x.
func upper(s []int64, x int64) int { return sort.Search(len(s), func(i int) bool { return s[i] > x }) }

// lower returns the number of elements of sorted s that are < x.
func lower(s []int64, x int64) int { return sort.Search(len(s), func(i int) bool { return s[i] >= x }) }
