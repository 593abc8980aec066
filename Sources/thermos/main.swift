print("thermos")
