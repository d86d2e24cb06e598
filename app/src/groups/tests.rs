use super::{
    model::NewGroup,
    repo::list_groups,
    service::{create_group, ensure_default_groups, GroupError},
};
use crate::{
    audit::repo::Ctx,
    backend_test,
    db::{testing::TestDb, Conn},
};

async fn defaults_are_created_once_and_admins_add_more(t: &TestDb) {
    ensure_default_groups(&t.db).await.unwrap();
    ensure_default_groups(&t.db).await.unwrap();
    create_group(
        &t.db,
        &Ctx::system(),
        NewGroup::parse("Finance", "").unwrap(),
    )
    .await
    .unwrap();
    let names: Vec<String> = list_groups(&mut Conn::Db(&t.db))
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(
        names,
        ["Data governance", "Engineering", "Finance", "Product"]
    );
    let dup = create_group(
        &t.db,
        &Ctx::system(),
        NewGroup::parse("finance", "").unwrap(),
    )
    .await;
    assert!(matches!(dup, Err(GroupError::NameTaken)));
}
backend_test!(groups, defaults_are_created_once_and_admins_add_more);
