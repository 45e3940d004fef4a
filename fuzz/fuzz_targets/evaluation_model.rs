//! Evaluation model files (spec/evaluation.md §2) and derived-form definition files
//! (spec/derivations.md §6), both read from outside: either loads and its checks hold, or it is
//! refused with an error; never a panic. A model that loads evaluates over no inputs to a grade
//! of its own bands.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let catalog = consentry::catalog::Catalog::builtin();
    if let Ok(model) = consentry::evaluation::Model::from_json(text, &catalog) {
        let e = consentry::evaluation::evaluate(&model, &Default::default());
        assert!(e.score <= 100);
        assert!(model.grades.iter().any(|g| g.grade == e.grade));
    }
    if let Ok(c) = consentry::catalog::Catalog::from_json(
        consentry::catalog::BUILTIN_CATALOG,
        consentry::catalog::BUILTIN_LETTERS,
        text,
    ) {
        // Every non-public category has a derived form in the newest set.
        for cat in c.categories().filter(|c| !c.public) {
            assert!(c.derivation(None, &cat.code).is_some());
        }
    }
});
