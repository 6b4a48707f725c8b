use face::*;
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mut p = FacePipeline::new(&PipelineConfig::default())?;
    for a in &args[1..] {
        let img = face::imaging::load(std::path::Path::new(a))?;
        let r = p.analyze(&img)?;
        let f = r.face.as_ref();
        println!("{a}: faces={} codes={:?} pose={:?} ear={:?} sharp={:?} exp={:?} size={:?}", r.faces.len(), r.codes(), f.map(|f| f.pose), f.map(|f| f.eye_openness), f.map(|f| f.sharpness), f.map(|f| f.exposure), f.map(|f| f.face_size));
    }
    Ok(())
}
