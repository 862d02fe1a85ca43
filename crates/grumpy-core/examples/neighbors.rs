//! kNN graph within each protein of a small batch (proteins × residues × xyz).
//!
//! Run: `cargo run -p grumpy-core --example neighbors`
#![allow(clippy::print_stdout)]

use grumpy_core::array::Array;
use grumpy_core::buffer::{Buf, Values};
use grumpy_core::neighbors::{
    knn_graph, neighbor_graph, neighbors, Graph, GraphOutput, NeighborOpts,
};

fn main() -> grumpy_core::Result<()> {
    // Two proteins with 4 and 3 residues, flat xyz values plus offsets (outermost first).
    let xyz: Vec<f64> = vec![
        0.0, 0.0, 0.0, 3.8, 0.0, 0.0, 3.8, 3.8, 0.0, 0.0, 3.8, 0.0, // protein 0
        10.0, 0.0, 0.0, 13.8, 0.0, 0.0, 13.8, 0.0, 3.8, // protein 1
    ];
    let batch = Array::from_offsets(
        Values::from(xyz),
        None,
        vec![
            Buf::from_vec(vec![0i64, 4, 7]),
            Buf::from_vec((0..=7).map(|i| 3 * i).collect()),
        ],
    )?;

    // k = 2 nearest residues of each residue, within its protein, without self pairs.
    let opts = NeighborOpts::knn(2).dim(1).self_loops(false);
    let r = neighbors(&batch, &batch, &opts)?;
    let (off, idx, dist) = (r.offsets(), r.neighbor_index(), r.distance_values());
    for q in 0..r.num_queries() {
        let (a, b) = (off[q] as usize, off[q + 1] as usize);
        println!(
            "residue {q}: neighbours {:?} at {:?}",
            &idx[a..b],
            &dist[a..b]
        );
    }
    println!(
        "pairs: {} rows (proteins), ndim {}",
        r.pairs().len(),
        r.pairs().ndim()
    );
    let ei = r.edge_index();
    let (src, dst) = ei.split_at(r.num_edges());
    println!("edge_index row 0 (neighbour): {src:?}");
    println!("edge_index row 1 (query):     {dst:?}");

    // Radius graph: every residue within 4 Å.
    let radius = neighbors(
        &batch,
        &batch,
        &NeighborOpts::radius(4.0)
            .dim(1)
            .self_loops(false)
            .same(true),
    )?;
    println!("radius 4.0 Å: {} edges", radius.num_edges());

    // The entry point a compiled plan uses: gr.neighbors(batch, batch, k=2, dim=1, loop=False).
    let pairs = knn_graph(&batch, 2, 1, false)?;
    assert_eq!(pairs, r.pairs());

    // The fast path of gr.neighbors: the search writes the final format directly.
    let Graph::EdgeIndex {
        edge_index,
        distances,
    } = neighbor_graph(&batch, &batch, &opts, GraphOutput::EdgeIndex, true)?
    else {
        unreachable!("asked for edge_index")
    };
    assert_eq!(edge_index, ei);
    assert_eq!(distances.as_deref(), Some(dist));
    println!(
        "neighbor_graph: {} edges with distances",
        edge_index.len() / 2
    );
    Ok(())
}
