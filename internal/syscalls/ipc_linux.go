package syscalls

import "encoding/binary"

// semCount asks the kernel how many semaphores set semid has
// (semid64_ds.sem_nsems, at offset 80 on x86-64).
func semCount(semid int) (uint64, error) {
	var ds [104]byte
	if err := semStat(semid, &ds); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(ds[80:]), nil
}
