package reactor

// table maps slots to connections. Slots are reused, generations are not:
// a connection id (generation<<32 | slot) names one connection forever.
type table struct {
	conns []*conn
	free  []int32
	open  int
}

func (t *table) alloc(fd int) *conn {
	var c *conn
	if n := len(t.free); n > 0 {
		slot := t.free[n-1]
		t.free = t.free[:n-1]
		c = t.conns[slot]
		gen := c.gen
		*c = conn{slot: slot, gen: gen}
	} else {
		c = &conn{slot: int32(len(t.conns)), gen: 1}
		t.conns = append(t.conns, c)
	}
	c.fd = fd
	t.open++
	return c
}

// release retires c's slot; its generation moves on so that every id and
// epoll event naming the old connection is recognised as stale.
func (t *table) release(c *conn) {
	c.gen++
	c.fd, c.state = -1, stateClosed
	t.free = append(t.free, c.slot)
	t.open--
}

// bySlot returns the live connection in slot with generation gen, or nil.
func (t *table) bySlot(slot int32, gen uint32) *conn {
	if slot < 0 || int(slot) >= len(t.conns) {
		return nil
	}
	c := t.conns[slot]
	if c.gen != gen || c.fd < 0 {
		return nil
	}
	return c
}

// byID returns the live connection with this id, or nil.
func (t *table) byID(id uint64) *conn {
	return t.bySlot(int32(uint32(id)), uint32(id>>32))
}
