{
  "targets": [
    {
      "target_name": "journal",
      "sources": ["native/journal.c"]
    }
  ]
}
