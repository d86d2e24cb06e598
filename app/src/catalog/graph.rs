//! Lineage as a directed graph over component ids: cycle detection and downstream impact.
//! Pure functions, so the rules are tested without a database.

use std::collections::{HashMap, HashSet, VecDeque};

/// Edges from upstream to downstream.
#[derive(Debug, Default, Clone)]
pub struct Graph {
    downstream: HashMap<i64, Vec<i64>>,
}

impl Graph {
    pub fn from_edges(edges: impl IntoIterator<Item = (i64, i64)>) -> Self {
        let mut g = Graph::default();
        for (up, down) in edges {
            g.add(up, down);
        }
        g
    }

    pub fn add(&mut self, up: i64, down: i64) {
        let list = self.downstream.entry(up).or_default();
        if !list.contains(&down) {
            list.push(down);
        }
    }

    pub fn children(&self, id: i64) -> &[i64] {
        self.downstream.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The path `from → … → to` along edges, if `to` is reachable (breadth first: shortest).
    pub fn path(&self, from: i64, to: i64) -> Option<Vec<i64>> {
        let reached = self.reach(from);
        if !reached.contains_key(&to) {
            return None;
        }
        Some(path_to(&reached, to))
    }

    /// Everything reachable from `root` (not `root` itself unless on a cycle), with the parent
    /// on one shortest path and the distance.
    pub fn reach(&self, root: i64) -> HashMap<i64, (i64, u32)> {
        let mut seen: HashMap<i64, (i64, u32)> = HashMap::new();
        let mut queue = VecDeque::from([(root, 0u32)]);
        let mut visited = HashSet::from([root]);
        while let Some((id, d)) = queue.pop_front() {
            for &child in self.children(id) {
                if visited.insert(child) {
                    seen.insert(child, (id, d + 1));
                    queue.push_back((child, d + 1));
                } else if child == root && !seen.contains_key(&root) {
                    seen.insert(root, (id, d + 1));
                }
            }
        }
        seen
    }

    /// One cycle (its ids in edge order, first repeated at the end), if the graph has any.
    pub fn find_cycle(&self) -> Option<Vec<i64>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Active,
            Done,
        }
        let mut marks: HashMap<i64, Mark> = HashMap::new();
        let mut nodes: Vec<i64> = self.downstream.keys().copied().collect();
        nodes.sort_unstable();
        for start in nodes {
            if marks.contains_key(&start) {
                continue;
            }
            // Iterative depth-first search; `stack` holds (node, next child index).
            let mut stack: Vec<(i64, usize)> = vec![(start, 0)];
            marks.insert(start, Mark::Active);
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                let children = self.children(node);
                if *next < children.len() {
                    let child = children[*next];
                    *next += 1;
                    match marks.get(&child) {
                        Some(Mark::Active) => {
                            let from = stack.iter().position(|(n, _)| *n == child).unwrap_or(0);
                            let mut cycle: Vec<i64> =
                                stack[from..].iter().map(|(n, _)| *n).collect();
                            cycle.push(child);
                            return Some(cycle);
                        }
                        Some(Mark::Done) => {}
                        None => {
                            marks.insert(child, Mark::Active);
                            stack.push((child, 0));
                        }
                    }
                } else {
                    marks.insert(node, Mark::Done);
                    stack.pop();
                }
            }
        }
        None
    }

    /// Longest-path layer of every node reachable from `root` (root = 0), so that every edge
    /// among them points to a later layer: the columns of the impact picture.
    pub fn layers_from(&self, root: i64, members: &HashSet<i64>) -> HashMap<i64, u32> {
        // Kahn's algorithm over the sub-graph induced by `members` ∪ {root}.
        let mut indegree: HashMap<i64, usize> = HashMap::new();
        for &n in members.iter().chain(std::iter::once(&root)) {
            indegree.entry(n).or_insert(0);
            for c in self.children(n) {
                if members.contains(c) {
                    *indegree.entry(*c).or_insert(0) += 1;
                }
            }
        }
        let mut layer: HashMap<i64, u32> = HashMap::from([(root, 0)]);
        let mut ready: VecDeque<i64> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(n, _)| *n)
            .collect();
        while let Some(n) = ready.pop_front() {
            let here = *layer.entry(n).or_insert(0);
            for &c in self.children(n) {
                if let Some(d) = indegree.get_mut(&c) {
                    let l = layer.entry(c).or_insert(0);
                    *l = (*l).max(here + 1);
                    *d -= 1;
                    if *d == 0 {
                        ready.push_back(c);
                    }
                }
            }
        }
        layer
    }
}

/// Follows parents back from `to` to the root: the ids along the path, root first.
pub fn path_to(reached: &HashMap<i64, (i64, u32)>, to: i64) -> Vec<i64> {
    let mut path = vec![to];
    let mut at = to;
    while let Some(&(parent, _)) = reached.get(&at) {
        path.push(parent);
        at = parent;
        if at == to || path.len() > reached.len() + 1 {
            break;
        }
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn impact_reports_shortest_distance_and_its_path() {
        // 1 → 2 → 3 → 4 and 1 → 4
        let g = Graph::from_edges([(1, 2), (2, 3), (3, 4), (1, 4)]);
        let reached = g.reach(1);
        assert_eq!(reached[&4].1, 1);
        assert_eq!(reached[&3].1, 2);
        assert_eq!(path_to(&reached, 3), [1, 2, 3]);
        assert!(!reached.contains_key(&1));
    }

    #[test]
    fn a_cycle_is_found_and_named_in_edge_order() {
        let g = Graph::from_edges([(1, 2), (2, 3), (3, 1), (3, 4)]);
        let cycle = g.find_cycle().unwrap();
        assert_eq!(cycle.first(), cycle.last());
        for pair in cycle.windows(2) {
            assert!(g.children(pair[0]).contains(&pair[1]));
        }
        assert!(Graph::from_edges([(1, 2), (2, 3), (1, 3)])
            .find_cycle()
            .is_none());
    }

    #[test]
    fn layers_put_every_edge_forward() {
        let g = Graph::from_edges([(1, 2), (2, 3), (1, 3)]);
        let members: HashSet<i64> = [2, 3].into();
        let layers = g.layers_from(1, &members);
        assert_eq!((layers[&1], layers[&2], layers[&3]), (0, 1, 2));
    }

    proptest! {
        #[test]
        fn edges_that_only_point_forward_never_make_a_cycle(
            edges in proptest::collection::vec((0i64..40, 0i64..40), 0..120)
        ) {
            let forward = edges.iter().filter(|(a, b)| a < b).copied();
            prop_assert!(Graph::from_edges(forward).find_cycle().is_none());
        }

        #[test]
        fn a_found_cycle_is_made_of_real_edges(
            edges in proptest::collection::vec((0i64..12, 0i64..12), 0..40)
        ) {
            let g = Graph::from_edges(edges.iter().filter(|(a, b)| a != b).copied());
            if let Some(cycle) = g.find_cycle() {
                prop_assert_eq!(cycle.first(), cycle.last());
                for pair in cycle.windows(2) {
                    prop_assert!(g.children(pair[0]).contains(&pair[1]));
                }
            }
        }
    }
}
