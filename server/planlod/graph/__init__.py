"""Reading the dataset's files and holding them in a store."""
